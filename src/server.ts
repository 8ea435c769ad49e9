import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createTokens, type Tokens } from './auth/index.ts';
import { readSecret } from './config/secrets.ts';
import type { GatewayConfig } from './config/types.ts';
import { parseInputSchema } from './convert/arrow-types.ts';
import { PipelineDirectory } from './discovery/directory.ts';
import { errorBody, toGatewayError } from './errors.ts';
import { createLogger } from './observability/logger.ts';
import { CIRCUIT_STATE_VALUE, createMetrics, type GatewayMetrics } from './observability/metrics.ts';
import { gatewayOpenApi } from './observability/gateway-openapi.ts';
import { healthRoutes, metricsRoute } from './observability/routes.ts';
import { CircuitBreaker } from './limits/breaker.ts';
import { ConcurrencyLimiter } from './limits/concurrency.ts';
import { mirrorLegacyRateLimitHeaders, rateLimitOptions } from './limits/rate-limit.ts';
import { createRedisClient } from './limits/redis.ts';
import { RetryBudget } from './limits/retry-budget.ts';
import { Dispatchers } from './proxy/dispatchers.ts';
import { Forwarder, type PipelineLimits } from './proxy/forward.ts';
import { requestIdFrom } from './http/headers.ts';
import { OpenAiForwarder } from './proxy/openai.ts';
import { proxyRoutes } from './proxy/routes.ts';

export interface GatewayDeps {
  logger?: Logger;
  registry?: Registry;
}

export interface Gateway {
  app: FastifyInstance;
  tokens: Tokens;
  directory: PipelineDirectory;
  metrics: GatewayMetrics;
  /** /metrics on its own listener when `metrics.port` is set (the caller listens on it); else null. */
  metricsApp: FastifyInstance | null;
  /** Readiness turns 503 at once; in-flight requests go on until `app.close()`. */
  startDraining(): void;
}

/** Wires the gateway from a validated config. Does no I/O itself: tokens are fetched once the app is ready. */
export async function buildServer(config: GatewayConfig, deps: GatewayDeps = {}): Promise<Gateway> {
  const logger = deps.logger ?? createLogger(config.logging.level);
  const registry = deps.registry ?? new Registry();
  const metrics = createMetrics(registry);
  const dispatchers = new Dispatchers(config);
  const tokens = createTokens(config, dispatchers.control, logger, {
    tokenRequest: (kind, result) => metrics.tokenRequests.inc({ kind, result }),
    tokenExpiry: (kind, at) => metrics.tokenExpiry.set({ kind }, at),
  });
  const directory = new PipelineDirectory({
    wallarooUrl: config.wallaroo.url,
    wallarooOrigin: config.wallaroo.origin,
    ttlSeconds: config.discovery.ttlSeconds,
    maxEntries: config.discovery.maxEntries,
    tokens: tokens.mlops,
    dispatcher: dispatchers.control,
    logger,
    onResult: (result) => metrics.discoveryCache.inc({ result }),
  });
  const pipelines = new Map(config.pipelines.map((p) => [p.name, p]));
  const limits = new Map<string, PipelineLimits>(
    config.pipelines.map((p) => [
      p.name,
      {
        breaker: new CircuitBreaker(p.name, {
          ...p.circuitBreaker,
          onStateChange: (state) => {
            metrics.circuitState.set({ pipeline: p.name }, CIRCUIT_STATE_VALUE[state]);
            logger.warn({ pipeline: p.name, state }, 'circuit breaker state changed');
          },
        }),
        concurrency: new ConcurrencyLimiter(p.name, p.maxConcurrency, p.maxQueue),
        retryBudget: new RetryBudget(),
      },
    ]),
  );
  const redis = config.rateLimit.store === 'redis' && config.rateLimit.redisUrl
    ? createRedisClient(await readSecret(config.rateLimit.redisUrl), config.rateLimit.redisTimeoutMs, logger)
    : null;
  const rateLimit = rateLimitOptions(config, pipelines, redis, {
    limited: (pipeline) => metrics.rateLimited.inc({ pipeline }),
    storeError: (outcome) => metrics.rateLimitStoreErrors.inc({ outcome }),
  }, logger);
  const forwarder = new Forwarder({
    tokens: tokens.inference,
    directory,
    dispatcherFor: (pipeline) => dispatchers.forPipeline(pipeline),
    metrics,
    bodyLimit: config.server.bodyLimit,
    bodyIdleTimeoutMs: config.server.bodyTimeoutMs,
    replayLimit: Math.min(config.server.bodyLimit, 8 * 1024 * 1024),
    responseLimit: Math.max(config.server.bodyLimit * 4, 64 * 1024 * 1024),
    inputSchemas: new Map(config.pipelines.map((p) => [p.name, parseInputSchema(p.inputSchema)])),
    conversion: config.conversion,
    openAiBodyLimit: config.server.openAiBodyLimit,
    limitsFor: (pipeline) => limits.get(pipeline.name)!,
  });
  const openAi = new OpenAiForwarder(
    forwarder,
    (pipeline, usage) => {
      if (typeof usage.prompt_tokens === 'number') metrics.llmTokens.inc({ pipeline, kind: 'prompt' }, usage.prompt_tokens);
      if (typeof usage.completion_tokens === 'number') metrics.llmTokens.inc({ pipeline, kind: 'completion' }, usage.completion_tokens);
    },
    (pipeline, seconds) => metrics.streamFirstByte.observe({ pipeline }, seconds),
  );
  const inflight = new Map<string, number>();
  for (const pipeline of config.pipelines) {
    // Series exist from the start, so dashboards and alerts see zeros rather than gaps.
    metrics.inflight.set({ pipeline: pipeline.name }, 0);
    metrics.circuitState.set({ pipeline: pipeline.name }, CIRCUIT_STATE_VALUE.closed);
  }
  let draining = false;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request is written in onResponse instead, with the gateway's own fields.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    bodyLimit: config.server.bodyLimit,
    return503OnClosing: false,
    // Router errors (bad URL encoding, overlong segments) never reach setErrorHandler: answer them in our
    // format too, and never echo the offending path back.
    frameworkErrors: (error, _request, reply) => {
      const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'GW_URI_TOO_LONG' : 'GW_BAD_REQUEST';
      void (reply as FastifyReply).code(errorBody(code).statusCode).header('connection', 'close').send(errorBody(code));
    },
    forceCloseConnections: 'idle',
  });

  app.decorateRequest('stats', null as never);
  // Callback-style hooks: they run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    request.stats = { route: request.routeOptions.config?.route ?? 'other' };
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    // A request already in flight when draining began would otherwise leave its keep-alive socket open,
    // holding shutdown until the idle timeout.
    if (draining) reply.header('connection', 'close');
    mirrorLegacyRateLimitHeaders((name) => reply.getHeader(name), (name, value) => reply.header(name, value));
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const { stats } = request;
    const pipeline = stats.pipeline ?? '';
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.inc({ pipeline, route: stats.route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ pipeline, route: stats.route }, seconds);
    const quiet = stats.route === 'healthz' || stats.route === 'readyz' || stats.route === 'metrics';
    request.log[quiet ? 'debug' : 'info'](
      {
        method: request.method,
        route: stats.route,
        pipeline: stats.pipeline,
        status: reply.statusCode,
        upstreamStatus: stats.upstreamStatus,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        upstreamMs: stats.upstreamMs === undefined ? undefined : Math.round(stats.upstreamMs * 100) / 100,
        conversionMs: stats.conversionMs === undefined ? undefined : Math.round(stats.conversionMs * 100) / 100,
        engineMs: stats.engineMs === undefined ? undefined : Math.round(stats.engineMs * 1000) / 1000,
        firstByteMs: stats.firstByteMs === undefined ? undefined : Math.round(stats.firstByteMs * 100) / 100,
        bytesIn: stats.bytesIn,
        bytesOut: stats.bytesOut,
        replays: stats.replays?.length ? stats.replays : undefined,
        retries: stats.retries,
      },
      'request',
    );
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const gatewayError = toGatewayError(error);
    const cause = gatewayError.cause as { code?: string; message?: string } | undefined;
    const logFields = { reqId: request.id, code: gatewayError.code, status: gatewayError.statusCode, cause: cause?.code ?? cause?.message };
    if (gatewayError.statusCode >= 500) request.log.warn(logFields, gatewayError.message);
    else request.log.debug(logFields, gatewayError.message);
    if (gatewayError.code === 'GW_INTERNAL') request.log.error({ reqId: request.id, err: error }, 'unexpected error');
    if (reply.sent || reply.raw.headersSent) return;
    // A body left unread (too large, too slow) must not be parsed as the next request: close after answering.
    if (!request.raw.readableEnded) reply.header('connection', 'close');
    void reply.code(gatewayError.statusCode).headers(gatewayError.headers).send(gatewayError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('GW_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`));
  });

  await app.register(gatewayOpenApi);
  if (config.metrics.port === null) await app.register(metricsRoute, { registry });
  await app.register(healthRoutes, {
    readiness: () => {
      if (draining) return { ready: false, code: 'GW_DRAINING', message: 'the gateway is draining' };
      if (!tokens.inference.hasValidToken()) return { ready: false, code: 'GW_TOKEN_UNAVAILABLE', message: 'no Wallaroo token obtained yet' };
      return { ready: true };
    },
  });
  await app.register(proxyRoutes, {
    pipelines,
    forwarder,
    openAi,
    directory,
    inflight,
    onInflightChange: (pipeline, count) => metrics.inflight.set({ pipeline }, count),
    breakerState: (name) => limits.get(name)?.breaker.state ?? 'closed',
    rateLimit,
    maxEventLoopDelayMs: config.server.maxEventLoopDelayMs,
  });

  let metricsApp: FastifyInstance | null = null;
  if (config.metrics.port !== null) {
    metricsApp = Fastify({ logger: false });
    await metricsApp.register(metricsRoute, { registry });
  }

  app.addHook('onReady', async () => {
    tokens.inference.start();
    if (tokens.mlops !== tokens.inference) tokens.mlops.start();
  });
  app.addHook('onClose', async () => {
    tokens.inference.close();
    tokens.mlops.close();
    await Promise.all([dispatchers.close(), metricsApp?.close(), redis?.quit().catch(() => redis.disconnect())]);
  });

  return {
    app,
    tokens,
    directory,
    metrics,
    metricsApp,
    startDraining: () => {
      draining = true;
    },
  };
}
