import Fastify from 'fastify';
import { Pool } from 'undici';

/**
 * A Fastify route and an undici Pool, no features: the floor for a gateway built on Fastify. The body is read
 * whole and the answer sent as one buffer, as the gateway does for small bodies and answers.
 */
const pool = new Pool(process.argv[2]!, { connections: 128, pipelining: 1 });
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
app.post('/pipelines/ccfraud/infer', async (request, reply) => {
  const { statusCode, headers, body } = await pool.request({
    method: 'POST',
    path: '/v1/api/pipelines/infer/ccfraud-1/ccfraud',
    headers: { 'content-type': request.headers['content-type'] ?? 'application/json', authorization: 'Bearer bench.token.value' },
    body: request.body as Buffer,
  });
  const answer = Buffer.from(await body.arrayBuffer());
  return reply.code(statusCode).header('content-type', headers['content-type']).send(answer);
});
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${(app.server.address() as { port: number }).port}`);
