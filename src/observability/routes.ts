import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { errorBody } from '../errors.ts';

export interface HealthOptions {
  /** Ready: config valid (we are running) and a token obtained, and not draining. */
  readiness(): { ready: true } | { ready: false; code: 'GW_DRAINING' | 'GW_TOKEN_UNAVAILABLE'; message: string };
  registry: Registry | null;
}

export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/healthz', { config: { route: 'healthz' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { route: 'readyz' } }, async (_request, reply) => {
    const state = options.readiness();
    if (state.ready) return { status: 'ready' };
    return reply.code(503).send(errorBody(state.code, state.message));
  });

  const { registry } = options;
  if (registry) {
    app.get('/metrics', { config: { route: 'metrics' } }, async (_request, reply) =>
      reply.header('content-type', registry.contentType).send(await registry.metrics()),
    );
  }
}
