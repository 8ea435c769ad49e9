import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

/** (d) The floor for any Node gateway: node:http in, an undici Pool out, a static token, nothing else. */
const pool = new Pool(process.argv[2]!, { connections: 128, pipelining: 1 });
const server = createServer(async (req, res) => {
  try {
    const { statusCode, headers, body } = await pool.request({
      method: 'POST',
      path: '/v1/api/pipelines/infer/ccfraud-1/ccfraud',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', authorization: 'Bearer bench.token.value', 'content-length': req.headers['content-length'] },
      body: req,
    });
    res.writeHead(statusCode, { 'content-type': headers['content-type'] as string, 'content-length': headers['content-length'] as string });
    body.pipe(res);
  } catch {
    res.writeHead(502).end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
