import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { answerClientError, errorBody, installErrorHandling, installParserErrorHandling } from '../errors.ts';

// Health as Kubernetes expects it. /healthz: the process answers. /readyz: ready once the config is valid (we are
// running) and a first inference token was obtained, and it stays ready through an identity-provider outage
// (requests then get a coded 503 with Retry-After, which a caller can act on; an unready replica is a
// connection error). 503 GW_DRAINING from SIGTERM on, while the listener still serves. The answer says why.

export interface TokenHealth {
  kind: string;
  valid: boolean;
  everObtained: boolean;
  expiresInSeconds: number | null;
  lastError: { cause: string; at: string; consecutiveFailures: number; nextAttemptInMs: number | null } | null;
}

export interface HealthOptions {
  draining(): boolean;
  tokens(): TokenHealth[];
  /** False until the token issuer's keys were first fetched (callers.authentication: kubernetes); latched like the token. */
  callerKeysReady?(): boolean;
}

export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const status = { type: 'object', properties: { status: { type: 'string' } } };
  app.get('/healthz', { config: { route: 'healthz' }, schema: { summary: 'The process is alive', tags: ['health'], response: { 200: status } } }, async () => ({ status: 'ok' }));

  const tokenSchema = {
    type: 'object',
    properties: {
      kind: { type: 'string' },
      valid: { type: 'boolean' },
      everObtained: { type: 'boolean' },
      expiresInSeconds: { type: ['integer', 'null'] },
      lastError: {
        type: ['object', 'null'],
        properties: { cause: { type: 'string' }, at: { type: 'string' }, consecutiveFailures: { type: 'integer' }, nextAttemptInMs: { type: ['integer', 'null'] } },
      },
    },
  };
  app.get('/readyz', {
    config: { route: 'readyz' },
    schema: {
      summary: 'Ready: config valid, a first token obtained, not draining; says why when not, and any token trouble',
      tags: ['health'],
      response: { 200: { type: 'object', properties: { status: { type: 'string' }, tokens: { type: 'array', items: tokenSchema } } }, 503: { $ref: 'GatewayError#' } },
    },
  }, async (_request, reply) => {
    if (options.draining()) return reply.code(503).send(errorBody('GW_DRAINING', 'the gateway is draining: finishing requests before it stops'));
    const tokens = options.tokens();
    const inference = tokens.find((t) => t.kind === 'inference');
    if (inference && !inference.everObtained) {
      const why = inference.lastError ? `${inference.lastError.cause}; next attempt in ${inference.lastError.nextAttemptInMs ?? 0} ms` : 'the first token request is under way';
      return reply.code(503).send(errorBody('GW_TOKEN_UNAVAILABLE', `no Wallaroo token obtained yet: ${why}`));
    }
    if (options.callerKeysReady?.() === false) {
      return reply.code(503).send(errorBody('GW_CALLER_KEYS_UNAVAILABLE', "the token issuer's keys were not fetched yet"));
    }
    return { status: 'ready', tokens };
  });
}

/** `GET /metrics`: on the main port, or alone on its own listener (`metrics.port`). */
export async function metricsRoute(app: FastifyInstance, options: { registry: Registry }): Promise<void> {
  const { registry } = options;
  app.get('/metrics', { config: { route: 'metrics' }, schema: { summary: 'Prometheus metrics', tags: ['health'], produces: ['text/plain'] } }, async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}

/** While draining, every answer closes its connection: a keep-alive socket would hold shutdown until it idles. */
export const closeWhileDraining = fp(async (app: FastifyInstance, options: { draining(): boolean }) => {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (options.draining()) reply.header('connection', 'close');
    done(null, payload);
  });
}, { name: 'wallaroo-gateway-close-while-draining' });

/**
 * The metrics listener (`metrics.port`): /metrics, and the probes too, because a sidecar keeps its traffic port on
 * 127.0.0.1, which the kubelet cannot reach. `errorSchema` is the error body's JSON Schema (readyz's 503).
 */
export async function createMetricsApp(registry: Registry, health: HealthOptions, errorSchema: Record<string, unknown>): Promise<FastifyInstance> {
  const metricsApp = Fastify({ logger: false, clientErrorHandler: answerClientError, http: { requireHostHeader: false } });
  installParserErrorHandling(metricsApp);
  installErrorHandling(metricsApp);
  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  await metricsApp.register(metricsRoute, { registry });
  metricsApp.addSchema({ $id: 'GatewayError', ...errorSchema });
  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  await metricsApp.register(healthRoutes, health);
  return metricsApp;
}
