import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The benchmark's Wallaroo stand-in: as fast as a server can be, so the proxies are what gets measured.
 * Token endpoint, MLOps discovery and inference answer fixed bodies; GET /_counts reports how often the
 * control plane was called (the steady state must not call it at all).
 */
const counts = { token: 0, mlops: 0, inference: 0, bytesReceived: 0 };
const ANSWER = Buffer.from(JSON.stringify([{
  time: 1688750664105,
  in: { tensor: Array.from({ length: 29 }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e6) },
  out: { dense_1: [0.0014974177] },
  check_failures: [],
  metadata: { last_model: '{"model_name":"ccfraud","model_sha":"bench"}', pipeline_version: 'bench', elapsed: [112000, 34000], dropped: [], partition: 'engine-bench' },
}]));
const TOKEN = Buffer.from(JSON.stringify({ access_token: 'bench.token.value', expires_in: 3600, token_type: 'Bearer' }));

const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    counts.bytesReceived += bytes;
    const url = req.url ?? '';
    let body: Buffer;
    if (url.startsWith('/v1/api/pipelines/infer/')) {
      counts.inference++;
      body = ANSWER;
    } else if (url.endsWith('/openid-connect/token')) {
      counts.token++;
      body = TOKEN;
    } else if (url === '/v1/api/workspaces/list') {
      counts.mlops++;
      body = Buffer.from('{"workspaces":[{"id":8,"name":"demo"}]}');
    } else if (url === '/v1/api/admin/get_pipeline_external_url') {
      counts.mlops++;
      body = Buffer.from(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/api/pipelines/infer/ccfraud-1/ccfraud` }));
    } else if (url === '/_counts') {
      body = Buffer.from(JSON.stringify(counts));
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
