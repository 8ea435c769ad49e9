import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createTokens, type Tokens } from './auth/index.ts';
import { createCallers } from './callers/index.ts';
import { configAdvice } from './config/advice.ts';
import type { GatewayConfig } from './config/types.ts';
import { PipelineDirectory } from './discovery/directory.ts';
import { errorBody, logGatewayError, replyWithError, toGatewayError } from './errors.ts';
import { requestIdFrom } from './http/headers.ts';
import { createRateLimiting, mirrorLegacyRateLimitHeaders } from './limits/rate-limit.ts';
import { GATEWAY_VERSION } from './http/version.ts';
import { accessLog } from './observability/access-log.ts';
import { healthRoutes, metricsRoute } from './observability/health.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics, type GatewayMetrics } from './observability/metrics.ts';
import { createTracing } from './observability/tracing-setup.ts';
import { gatewayOpenApi } from './openapi/gateway-openapi.ts';
import { ERROR_BODY_SCHEMA } from './openapi/openapi.ts';
import { Dispatchers } from './proxy/dispatchers.ts';
import { createProxy } from './proxy/index.ts';
import { registerUi } from './ui/routes.ts';

// The composition root: builds each part from a validated config and registers the plugins in order. The only
// I/O at build time is reading the TLS files (CA, and the gateway's own certificate under server.tls); tokens,
// Redis, the token issuer's keys and every other connection start when the app is ready and stop when it closes.

export interface GatewayDeps {
  logger?: Logger;
  registry?: Registry;
  /** Monotonic milliseconds and randomness for the token schedule (tests inject them). */
  now?: () => number;
  random?: () => number;
}

export interface Gateway {
  app: FastifyInstance;
  tokens: Tokens;
  directory: PipelineDirectory;
  metrics: GatewayMetrics;
  /** /metrics (and health) on its own listener when `metrics.port` is set (the caller listens on it); else null. */
  metricsApp: FastifyInstance | null;
  /** Readiness turns 503 at once; requests are still served until `app.close()`. */
  startDraining(): void;
}

export async function buildServer(config: GatewayConfig, deps: GatewayDeps = {}): Promise<Gateway> {
  const logger = deps.logger ?? createLogger(config.logging.level);
  for (const advice of configAdvice(config)) logger.warn(advice);
  const registry = deps.registry ?? new Registry();
  const metrics = createMetrics(registry);
  const tracing = await createTracing(config.tracing, { version: GATEWAY_VERSION, metrics, logger });
  const dispatchers = new Dispatchers(config);
  const tokens = createTokens(config, dispatchers.control, logger, {
    tokenRequest: (kind, result) => metrics.tokenRequests.inc({ kind, result }),
    tokenExpiry: (kind, at) => metrics.tokenExpiry.set({ kind }, at),
  }, deps);
  const directory = new PipelineDirectory({
    wallarooUrl: config.wallaroo.url,
    wallarooOrigin: config.wallaroo.origin,
    pipelines: config.pipelines,
    ttlSeconds: config.discovery.ttlSeconds,
    maxEntries: config.discovery.maxEntries,
    negativeTtlMs: config.discovery.negativeTtlSeconds * 1000,
    lookupTimeoutMs: config.discovery.timeoutMs,
    userToken: config.wallaroo.mlops !== null,
    tokens: tokens.mlops,
    dispatcher: dispatchers.control,
    logger,
    onResult: (result) => metrics.discoveryCache.inc({ result }),
  });
  const rateLimiting = createRateLimiting(config, {
    limited: (pipeline) => metrics.rateLimited.inc({ pipeline }),
    storeError: (outcome) => metrics.rateLimitStoreErrors.inc({ outcome }),
  }, logger);
  const callers = createCallers(config, logger, {
    refused: (pipeline, reason) => metrics.callerRefusals.inc({ pipeline: pipeline ?? '', reason }),
    keyFetch: (result) => metrics.callerKeyFetches.inc({ result }),
    answered: (pipeline, caller, status) => metrics.callerRequests.inc({ pipeline, caller, status: String(status) }),
  });
  const proxy = createProxy({ config, tokens, directory, dispatchers, metrics, logger, rateLimiting, callers: callers.plugin });
  const pipelineNames = new Set(config.pipelines.map((p) => p.name));
  let draining = false;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request is written by the access log instead, with the gateway's own fields.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    bodyLimit: config.server.bodyLimit,
    trustProxy: config.server.trustProxy.length > 0 ? config.server.trustProxy : false,
    return503OnClosing: false,
    // Router errors (bad URL encoding, overlong segments) never reach setErrorHandler: answer them in our format
    // too, and never echo the offending path back.
    frameworkErrors: (error, _request, reply) => {
      const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'GW_URI_TOO_LONG' : 'GW_BAD_REQUEST';
      void (reply as FastifyReply).code(errorBody(code).statusCode).header('connection', 'close').send(errorBody(code));
    },
    forceCloseConnections: 'idle',
    https: callers.https, // null: plain HTTP
  });
  app.decorateRequest('caller', null);
  await app.register(accessLog, {
    metrics,
    tracing,
    pipelineOf: (request) => {
      const name = (request.params as { name?: string } | undefined)?.name;
      return name !== undefined && pipelineNames.has(name) ? name : undefined;
    },
    onFailure: (pipeline, status, code, message) => proxy.tracker.noteFailure(pipeline, status, code, message),
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    // A keep-alive socket would otherwise hold shutdown until its idle timeout.
    if (draining) reply.header('connection', 'close');
    mirrorLegacyRateLimitHeaders((name) => reply.getHeader(name), (name, value) => reply.header(name, value));
    done(null, payload);
  });
  app.setErrorHandler((error, request, reply) => {
    const gatewayError = toGatewayError(error);
    request.stats.error = { code: gatewayError.code, message: gatewayError.message };
    logGatewayError(request.log, gatewayError, error);
    replyWithError(request, reply, gatewayError);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('GW_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`));
  });

  const health = {
    draining: () => draining,
    tokens: () => [...new Set([tokens.inference, tokens.mlops])].map((t) => t.status()),
    callerKeysReady: () => callers.ready(),
  };
  await app.register(gatewayOpenApi);
  if (config.metrics.port === null) await app.register(metricsRoute, { registry });
  await app.register(healthRoutes, health);
  await proxy.register(app);

  let metricsApp: FastifyInstance | null = null;
  if (config.metrics.port !== null) {
    metricsApp = Fastify({ logger: false });
    await metricsApp.register(metricsRoute, { registry });
    // The probes too: a sidecar keeps its traffic port on 127.0.0.1, which the kubelet cannot reach.
    metricsApp.addSchema({ $id: 'GatewayError', ...ERROR_BODY_SCHEMA });
    await metricsApp.register(healthRoutes, health);
  }
  await registerUi({ config, registry, app, metricsApp, pipelines: () => proxy.tracker.runtime(), tokens: health.tokens, draining: health.draining });

  app.addHook('onReady', async () => {
    callers.start(app.server);
    tokens.inference.start();
    if (tokens.mlops !== tokens.inference) tokens.mlops.start();
    await rateLimiting.start();
  });
  app.addHook('onClose', async () => {
    tokens.inference.close();
    tokens.mlops.close();
    await Promise.all([dispatchers.close(), metricsApp?.close(), rateLimiting.close(), tracing?.shutdown(), callers.close()]);
  });
  return { app, tokens, directory, metrics, metricsApp, startDraining: () => (draining = true) };
}
