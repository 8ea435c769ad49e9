import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { readSecret } from '../config/secrets.ts';
import type { GatewayConfig, PipelineConfig, RateLimitRule } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type {} from '../http/caller.ts'; // request.caller
import { firstHeader } from '../http/headers.ts';
import { oncePer } from '../http/once-per.ts';
import { MemoryWindowStore, type RateLimitStore, RedisWindowStore } from './rate-limit-stores.ts';
import { createRedisClient } from './redis.ts';

// Options for @fastify/rate-limit on the POST routes. Each pipeline has its own budget per caller (its
// `rateLimit`, else `rateLimit.default`, else none), keyed by client IP, a configured header or the verified
// caller identity (callers/). The store is
// counted in memory or in Redis shared by every replica, wrapped so a store failure is counted and then lets the
// request through (failOpen) or refuses it with 503, by choice.

export interface RateLimitEvents {
  limited(pipeline: string): void;
  storeError(outcome: 'allowed' | 'refused'): void;
}

/** A store class for the plugin (it calls `new Store(options)`) whose failures are counted and decided by policy. */
function resilientStoreClass(inner: RateLimitStore, failOpen: boolean, events: RateLimitEvents, logger: Logger) {
  const shouldLog = oncePer(5_000); // an outage must not flood the log
  return class ResilientStore implements RateLimitStore {
    incr(key: string, callback: Parameters<RateLimitStore['incr']>[1], timeWindow: number, max: number): void {
      inner.incr(key, (error, result) => {
        if (!error) return callback(null, result);
        events.storeError(failOpen ? 'allowed' : 'refused');
        if (shouldLog()) logger.warn({ reason: error.message, failOpen }, 'rate-limit store unavailable');
        if (failOpen) return callback(null, { current: 0, ttl: timeWindow });
        callback(new GatewayError('GW_RATE_LIMIT_UNAVAILABLE', 'the rate-limit store is unavailable and rateLimit.failOpen is false', { headers: { 'retry-after': '1' } }));
      }, timeWindow, max);
    }

    child(): RateLimitStore {
      return this;
    }
  };
}

/** The pipeline name from the route's path. */
function pipelineParam(request: FastifyRequest): string {
  return (request.params as { name?: string }).name ?? '';
}

/**
 * The caller's key: IP, the configured header (falling back to the IP when the header is absent), or the
 * verified identity (callers/ set it before this runs; nothing the caller writes in a header changes it).
 */
export function clientKey(request: FastifyRequest, keyBy: GatewayConfig['rateLimit']['keyBy']): string {
  if (keyBy.kind === 'identity' && request.caller) return `id:${request.caller.id}`;
  if (keyBy.kind === 'header') {
    const first = firstHeader(request.headers[keyBy.header]);
    if (first) return `h:${first.slice(0, 256)}`;
  }
  return `ip:${request.ip}`;
}

/** The rate limit of the POST routes: plugin options, and the Redis connection's start and stop. */
export interface RateLimiting {
  options: RateLimitPluginOptions | null;
  /** Connects the shared store (reads its URL secret); no I/O before this. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createRateLimiting(config: GatewayConfig, events: RateLimitEvents, logger: Logger): RateLimiting {
  const pipelines = new Map(config.pipelines.map((p) => [p.name, p]));
  const redisUrl = config.rateLimit.store === 'redis' ? config.rateLimit.redisUrl : null;
  const redis = redisUrl ? createRedisClient(config.rateLimit.redisTimeoutMs, logger) : null;
  const store = redis ? new RedisWindowStore(() => redis.client, 'wallaroo-gateway:ratelimit:') : new MemoryWindowStore(100_000);
  return {
    options: rateLimitOptions(config, pipelines, store, events, logger),
    start: async () => {
      if (redis && redisUrl) await redis.connect(await readSecret(redisUrl));
    },
    close: async () => {
      await redis?.close();
    },
  };
}

export function rateLimitOptions(
  config: GatewayConfig,
  pipelines: ReadonlyMap<string, PipelineConfig>,
  store: RateLimitStore,
  events: RateLimitEvents,
  logger: Logger,
): RateLimitPluginOptions | null {
  const ruleFor = (request: FastifyRequest): RateLimitRule | null => {
    const pipeline = pipelines.get(pipelineParam(request));
    return pipeline ? (pipeline.rateLimit ?? config.rateLimit.default) : null;
  };
  const anyRule = config.rateLimit.default !== null || [...pipelines.values()].some((p) => p.rateLimit);
  if (!anyRule) return null;
  return {
    global: true,
    hook: 'onRequest', // before the body is read: a refused caller costs nothing
    store: resilientStoreClass(store, config.rateLimit.failOpen, events, logger) as never,
    enableDraftSpec: true, // RateLimit-* headers; X-RateLimit-* are mirrored in an onSend hook
    allowList: (request) => ruleFor(request) === null,
    // An unambiguous composite key (a name and a header value can both contain any separator).
    keyGenerator: (request) => JSON.stringify([pipelineParam(request), clientKey(request, config.rateLimit.keyBy)]),
    max: (request) => ruleFor(request)?.max ?? Number.MAX_SAFE_INTEGER,
    timeWindow: (request) => ruleFor(request)?.timeWindowMs ?? 1_000,
    onExceeded: (request) => events.limited(pipelineParam(request)),
    // The window as configured (the plugin's own `after` is the time left, which reads "per 9 seconds" for 10).
    errorResponseBuilder: (request, context) =>
      new GatewayError('GW_RATE_LIMITED', `rate limit of ${context.max} requests per ${describeWindow(ruleFor(request)?.timeWindowMs ?? 1_000)} exceeded; retry after ${Math.max(1, Math.ceil(context.ttl / 1000))} s`),
  };
}

/** "1 second", "10 seconds", "1500 ms", "2 minutes": a window as a person would say it. */
export function describeWindow(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return ms === 60_000 ? '1 minute' : `${ms / 60_000} minutes`;
  if (ms % 1000 === 0) return ms === 1000 ? '1 second' : `${ms / 1000} seconds`;
  return `${ms} ms`;
}

/** Copies the draft-spec RateLimit-* headers to the X-RateLimit-* names many clients still read. */
export function mirrorLegacyRateLimitHeaders(get: (name: string) => unknown, set: (name: string, value: unknown) => void): void {
  for (const name of ['limit', 'remaining', 'reset']) {
    const value = get(`ratelimit-${name}`);
    if (value !== undefined) set(`x-ratelimit-${name}`, value);
  }
}
