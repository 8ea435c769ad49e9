import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import type { Logger } from 'pino';
import type { Tokens } from '../auth/index.ts';
import type { GatewayConfig, PipelineConfig } from '../config/types.ts';
import { parseInputSchema } from '../convert/arrow-types.ts';
import type { PipelineDirectory } from '../discovery/directory.ts';
import { BufferBudget, createGates } from '../limits/index.ts';
import type { RateLimiting } from '../limits/rate-limit.ts';
import { CIRCUIT_STATE_VALUE, type GatewayMetrics } from '../observability/metrics.ts';
import { shutDown } from '../http/deadline.ts';
import { createBatchers } from './batch-call.ts';
import { RequestContexts } from './context.ts';
import type { Dispatchers } from './dispatchers.ts';
import { InferenceRoute } from './inference.ts';
import { OpenAiRoute } from './openai.ts';
import { proxyRoutes } from './routes.ts';
import { PipelineTracker } from './status.ts';
import { UpstreamClient } from './upstream.ts';

// The request path, built once from config: a gate per pipeline, the upstream client, the two POST handlers and
// the tracker behind /pipelines, registered as one plugin.

/** Bodies up to this size are kept so a 401/404/503 can be replayed. */
export const REPLAY_LIMIT = 8 * 1024 * 1024;
/** An answer the gateway must convert is read whole up to this multiple of the body limit (and at least 64 MiB). */
export const ANSWER_LIMIT_FACTOR = 4;

export interface ProxyParts {
  config: GatewayConfig;
  tokens: Tokens;
  directory: PipelineDirectory;
  dispatchers: Dispatchers;
  metrics: GatewayMetrics;
  logger: Logger;
  rateLimiting: RateLimiting;
  /** The caller-identity plugin for the POST routes (callers/), or null when callers are not verified. */
  callers: FastifyPluginCallback | null;
}

export interface Proxy {
  tracker: PipelineTracker;
  register(app: FastifyInstance): Promise<void>;
  /** Draining started: every pending micro-batch is sent now, and none waits for maxDelayMs from here on. */
  flushBatches(): void;
  /** Ends every request in flight (the shutdown grace ran out): answered 503 GW_SHUTDOWN, or cut; returns how many. */
  endInFlight(graceMs: number): number;
}

export function createProxy({ config, tokens, directory, dispatchers, metrics, logger, rateLimiting, callers }: ProxyParts): Proxy {
  const gates = createGates(config.pipelines, new BufferBudget(config.server.bufferBudget), (pipeline, state) => {
    metrics.circuitState.set({ pipeline }, CIRCUIT_STATE_VALUE[state]);
    logger.warn({ pipeline, state }, 'circuit breaker state changed');
  });
  for (const pipeline of config.pipelines) metrics.circuitState.set({ pipeline: pipeline.name }, CIRCUIT_STATE_VALUE.closed);
  const gateFor = (pipeline: PipelineConfig) => gates.get(pipeline.name)!;
  const upstream = new UpstreamClient({ tokens: tokens.inference, directory, dispatcherFor: (p) => dispatchers.forPipeline(p), metrics });
  const { bodyLimit, bodyTimeoutMs } = config.server;
  const responseLimit = Math.max(bodyLimit * ANSWER_LIMIT_FACTOR, 64 * 1024 * 1024);
  const batchers = createBatchers(config.pipelines, { upstream, gateFor, metrics, logger, conversion: config.conversion, responseLimit });
  const tracker = new PipelineTracker(config.pipelines, gateFor, directory, metrics.inflight, (pipeline) => batchers.get(pipeline.name)?.figures() ?? null);
  const inference = new InferenceRoute({
    upstream,
    metrics,
    gateFor,
    bodyLimit,
    bodyIdleTimeoutMs: bodyTimeoutMs,
    replayLimit: Math.min(bodyLimit, REPLAY_LIMIT),
    responseLimit,
    batcherFor: (pipeline) => batchers.get(pipeline.name),
    inputSchemas: new Map(config.pipelines.map((p) => [p.name, parseInputSchema(p.inputSchema)])),
    conversion: config.conversion,
  });
  const openAi = new OpenAiRoute({
    upstream,
    gateFor,
    bodyLimit: config.server.openAiBodyLimit,
    conversion: config.conversion,
    bodyIdleTimeoutMs: bodyTimeoutMs,
    streamTimeoutMs: config.server.openAiStreamTimeoutMs,
    eventLimit: config.server.openAiEventLimit,
    onUsage: (pipeline, usage) => {
      if (usage.promptTokens !== null) metrics.llmTokens.inc({ pipeline, kind: 'prompt' }, usage.promptTokens);
      if (usage.completionTokens !== null) metrics.llmTokens.inc({ pipeline, kind: 'completion' }, usage.completionTokens);
    },
    onFirstByte: (pipeline, seconds) => metrics.streamFirstByte.observe({ pipeline }, seconds),
  });
  const contexts = new RequestContexts();
  return {
    tracker,
    flushBatches: () => {
      for (const batcher of batchers.values()) batcher.flush();
    },
    endInFlight: (graceMs) => contexts.endAll(shutDown(graceMs)),
    register: async (app) => {
      await app.register(proxyRoutes, {
        pipelines: new Map(config.pipelines.map((p) => [p.name, p])),
        inference,
        openAi,
        track: (pipeline, reply) => tracker.track(pipeline, reply),
        contexts,
        status: () => tracker.status(),
        callers,
        rateLimit: rateLimiting.options,
        maxEventLoopDelayMs: config.server.maxEventLoopDelayMs,
      });
    },
  };
}
