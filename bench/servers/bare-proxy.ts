import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

/** (b) A bare @fastify/http-proxy with a static Authorization header: the baseline any Fastify gateway starts from. */
const upstream = process.argv[2]!;
const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream,
  prefix: '/pipelines/ccfraud/infer',
  rewritePrefix: '/v1/api/pipelines/infer/ccfraud-1/ccfraud',
  replyOptions: { rewriteRequestHeaders: (_request, headers) => ({ ...headers, authorization: 'Bearer bench.token.value' }) },
});
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${(app.server.address() as { port: number }).port}`);
