import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { errorBody } from '../errors.ts';

export interface HealthOptions {
  /** Ready: config valid (we are running) and a token obtained, and not draining. */
  readiness(): { ready: true } | { ready: false; code: 'GW_DRAINING' | 'GW_TOKEN_UNAVAILABLE' | 'GW_CALLER_KEYS_UNAVAILABLE'; message: string };
}

export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const status = { type: 'object', properties: { status: { type: 'string' } } };
  app.get('/healthz', { config: { route: 'healthz' }, schema: { summary: 'The process is alive', tags: ['health'], response: { 200: status } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    config: { route: 'readyz' },
    schema: { summary: 'Ready: config valid, a token obtained, not draining', tags: ['health'], response: { 200: status, 503: { $ref: 'GatewayError#' } } },
  }, async (_request, reply) => {
    const state = options.readiness();
    if (state.ready) return { status: 'ready' };
    return reply.code(503).send(errorBody(state.code, state.message));
  });
}

/** `GET /metrics`: on the main port, or alone on its own listener (`metrics.port`). */
export async function metricsRoute(app: FastifyInstance, options: { registry: Registry }): Promise<void> {
  const { registry } = options;
  app.get('/metrics', { config: { route: 'metrics' }, schema: { summary: 'Prometheus metrics', tags: ['health'], produces: ['text/plain'] } }, async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}
