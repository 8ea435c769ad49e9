import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { convertBody } from '../../src/convert/index.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { listenHttp } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// The gateway reads Wallaroo's answer to convert it, so it asks for it uncompressed; an ingress that gzips anyway
// gets a coded 502 naming the encoding, not a conversion error about garbled bytes or a compressed body relayed.
async function gzippingWallaroo(t: TestContext) {
  const seen: IncomingHttpHeaders[] = [];
  const port = await listenHttp(t, (request, response) => {
    seen.push(request.headers);
    request.resume();
    request.once('end', () => {
      const arrow = convertBody(Buffer.from(JSON.stringify([{ time: 1, out: { dense_1: [0.001] } }])), 'json', 'arrow-file');
      response.writeHead(200, { 'content-type': 'application/vnd.apache.arrow.file', 'content-encoding': 'gzip' });
      response.end(gzipSync(arrow));
    });
  });
  return { port, seen };
}

test('a gzipped answer from Wallaroo that the gateway must convert is a coded 502; the gateway asked for identity', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await gzippingWallaroo(t);
  const gw = await startGateway(t, standInConfig(simulator, wallaroo.port, { name: 'ccfraud', upstreamFormat: 'arrow' }));
  const answer = await call(`${gw.url}/pipelines/ccfraud/infer`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/vnd.apache.arrow.stream', 'accept-encoding': 'gzip' }, body: ccfraudBody() });
  assert.equal(wallaroo.seen.length, 1);
  assert.equal(wallaroo.seen[0]!['accept-encoding'], 'identity');
  assert.equal(wallaroo.seen[0]!.accept, 'application/vnd.apache.arrow.file', 'the Arrow file the gateway converts to a stream');
  assert.equal(answer.status, 502, answer.text);
  assert.deepEqual(answer.json(), {
    statusCode: 502, code: 'GW_UPSTREAM_BAD_RESPONSE', error: 'Bad Gateway',
    message: 'pipeline ccfraud: Wallaroo answered with Content-Encoding "gzip" though the gateway asked for identity',
  });
});
