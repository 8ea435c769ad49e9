import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MEDIA_TYPES } from '../convert/negotiate.ts';
import { ERROR_BODY_SCHEMA, GATEWAY_VERSION } from './openapi.ts';

/**
 * `GET /openapi.json`: the whole gateway, from the routes' own schemas via @fastify/swagger. The inference
 * route reads its body raw (no validation schema), so its request body is described here for the document only.
 */
export const gatewayOpenApi = fp(async (app: FastifyInstance) => {
  app.addSchema({ $id: 'GatewayError', ...ERROR_BODY_SCHEMA });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'wallaroo-gateway',
        version: GATEWAY_VERSION,
        description: 'Authenticating gateway in front of Wallaroo inference. Per-pipeline detail: GET /pipelines/{name}/openapi.yaml.',
      },
    },
    transform: ({ schema, url }) => {
      if (!url.endsWith('/infer') || !schema) return { schema, url };
      const rows = { type: 'array', items: { type: 'object' } };
      const binary = { type: 'string', format: 'binary' };
      return {
        schema: {
          ...schema,
          consumes: Object.values(MEDIA_TYPES),
          body: { oneOf: [rows, binary] },
        } as typeof schema,
        url,
      };
    },
  });
  app.get('/openapi.json', { schema: { hide: true }, config: { route: 'openapi' } }, async () => app.swagger());
});
