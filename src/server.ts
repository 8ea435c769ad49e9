import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createTokens, type Tokens } from './auth/index.ts';
import { createCallers } from './callers/index.ts';
import { configAdvice } from './config/advice.ts';
import type { GatewayConfig } from './config/types.ts';
import { createDirectory, type PipelineDirectory } from './discovery/directory.ts';
import { installErrorHandling, installParserErrorHandling } from './errors.ts';
import { installDeferredContinue } from './http/expect-continue.ts';
import { OpenConnections } from './http/open-connections.ts';
import { gatewayServerOptions } from './http/server-options.ts';
import { GATEWAY_VERSION } from './http/version.ts';
import { createRateLimiting } from './limits/rate-limit.ts';
import { accessLog } from './observability/access-log.ts';
import { closeWhileDraining, createMetricsApp, healthRoutes, metricsRoute } from './observability/health.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics, type GatewayMetrics, metricEvents } from './observability/metrics.ts';
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
  /** Monotonic milliseconds and randomness for the token schedule and the discovery cache (tests inject them). */
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
  /** Readiness turns 503 at once and pending micro-batches are sent; requests are still served until `app.close()`. */
  startDraining(): void;
  /** The shutdown grace ran out: every request in flight is answered 503 GW_SHUTDOWN or cut; returns how many. */
  endInFlight(graceMs: number): number;
  /** After that: destroys every connection still open on either listener (http/open-connections.ts); returns how many. */
  closeConnections(): number;
}

export async function buildServer(config: GatewayConfig, deps: GatewayDeps = {}): Promise<Gateway> {
  const logger = deps.logger ?? createLogger(config.logging.level);
  for (const advice of configAdvice(config)) logger.warn(advice);
  const registry = deps.registry ?? new Registry();
  const metrics = createMetrics(registry);
  const events = metricEvents(metrics);
  const tracing = await createTracing(config.tracing, { version: GATEWAY_VERSION, metrics, logger });
  const dispatchers = new Dispatchers(config);
  const tokens = createTokens(config, dispatchers.control, logger, events.tokens, deps);
  const directory = createDirectory(config, tokens.mlops, dispatchers.control, logger, events.discovery, deps.now);
  const rateLimiting = createRateLimiting(config, events.rateLimit, logger);
  const callers = createCallers(config, logger, events.callers);
  const proxy = createProxy({ config, tokens, directory, dispatchers, metrics, logger, rateLimiting, callers: callers.plugin });
  let draining = false;

  const app = Fastify(gatewayServerOptions(config.server, logger, callers.https));
  app.decorateRequest('caller', null);
  await app.register(accessLog, {
    metrics,
    tracing,
    pipelines: config.pipelines.map((p) => p.name),
    onFailure: (pipeline, status, code, message) => proxy.tracker.noteFailure(pipeline, status, code, message),
  });
  await app.register(closeWhileDraining, { draining: () => draining });
  installErrorHandling(app);
  installParserErrorHandling(app);
  installDeferredContinue(app);

  const health = { draining: () => draining, tokens: () => tokens.all.map((t) => t.status()), callerKeysReady: () => callers.ready() };
  await app.register(gatewayOpenApi);
  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  if (config.metrics.port === null) await app.register(metricsRoute, { registry });
  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  await app.register(healthRoutes, health);
  await proxy.register(app);
  const metricsApp = config.metrics.port === null ? null : await createMetricsApp(registry, health, ERROR_BODY_SCHEMA);
  const connections = new OpenConnections();
  connections.watch(app.server);
  if (metricsApp) connections.watch(metricsApp.server);
  await registerUi({ config, registry, app, metricsApp, pipelines: () => proxy.tracker.runtime(), tokens: health.tokens, draining: health.draining });

  app.addHook('onReady', async () => {
    callers.start(app.server);
    for (const manager of tokens.all) manager.start();
    await rateLimiting.start();
  });
  app.addHook('onClose', async () => {
    for (const manager of tokens.all) manager.close();
    await Promise.all([dispatchers.close(), metricsApp?.close(), rateLimiting.close(), tracing?.shutdown(), callers.close()]);
  });
  const startDraining = () => {
    draining = true;
    // A request held for its batch's maxDelayMs could outlast the shutdown grace: pending batches go now.
    proxy.flushBatches();
  };
  return { app, tokens, directory, metrics, metricsApp, startDraining, endInFlight: (graceMs) => proxy.endInFlight(graceMs), closeConnections: () => connections.destroyAll() };
}
