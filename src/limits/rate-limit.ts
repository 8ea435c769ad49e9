import { createRequire } from 'node:module';
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { GatewayConfig, PipelineConfig, RateLimitRule } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { oncePer } from '../http/once-per.ts';
import type {} from '../http/caller.ts'; // request.caller
import { firstHeader } from '../http/headers.ts';

/**
 * Options for @fastify/rate-limit on the inference routes. Each pipeline has its own budget per caller
 * (its `rateLimit`, else `rateLimit.default`, else none), keyed by client IP or a configured header.
 * The store is the plugin's own (memory, or Redis shared by every replica: the real budget), wrapped so a
 * store failure is counted and then lets the request through (failOpen) or refuses it with 503, by choice.
 */
interface StoreResult {
  current: number;
  ttl: number;
}
type StoreCallback = (error: Error | null, result?: StoreResult) => void;
interface RateLimitStore {
  incr(key: string, callback: StoreCallback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): RateLimitStore;
}

const require = createRequire(import.meta.url);
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, prefix: string) => RateLimitStore;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, cacheSize: number) => RateLimitStore;

export interface RateLimitEvents {
  limited(pipeline: string): void;
  storeError(outcome: 'allowed' | 'refused'): void;
}

function resilientStoreClass(inner: RateLimitStore, failOpen: boolean, events: RateLimitEvents, logger: Logger) {
  const shouldLog = oncePer(5_000); // an outage must not flood the log
  const wrap = (store: RateLimitStore): RateLimitStore => ({
    incr(key, callback, timeWindow, max) {
      store.incr(key, (error, result) => {
        if (!error) return callback(null, result);
        events.storeError(failOpen ? 'allowed' : 'refused');
        if (shouldLog()) logger.warn({ reason: error.message, failOpen }, 'rate-limit store unavailable');
        if (failOpen) return callback(null, { current: 0, ttl: timeWindow });
        callback(new GatewayError('GW_RATE_LIMIT_UNAVAILABLE', 'the rate-limit store is unavailable and rateLimit.failOpen is false', { headers: { 'retry-after': '1' } }));
      }, timeWindow, max);
    },
    child: (routeOptions) => wrap(store.child(routeOptions)),
  });
  const wrapped = wrap(inner);
  return class {
    constructor() {
      return wrapped;
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

export function rateLimitOptions(
  config: GatewayConfig,
  pipelines: ReadonlyMap<string, PipelineConfig>,
  redis: Redis | null,
  events: RateLimitEvents,
  logger: Logger,
): RateLimitPluginOptions | null {
  const ruleFor = (request: FastifyRequest): RateLimitRule | null => {
    const pipeline = pipelines.get(pipelineParam(request));
    return pipeline ? (pipeline.rateLimit ?? config.rateLimit.default) : null;
  };
  const anyRule = config.rateLimit.default !== null || [...pipelines.values()].some((p) => p.rateLimit);
  if (!anyRule) return null;
  const inner = redis ? new RedisStore(false, false, redis, 'wallaroo-gateway:ratelimit:') : new LocalStore(false, false, 100_000);
  return {
    global: true,
    hook: 'onRequest', // before the body is read: a refused caller costs nothing
    store: resilientStoreClass(inner, config.rateLimit.failOpen, events, logger) as never,
    enableDraftSpec: true, // RateLimit-* headers; X-RateLimit-* are mirrored in an onSend hook
    allowList: (request) => ruleFor(request) === null,
    // An unambiguous composite key (a name and a header value can both contain any separator).
    keyGenerator: (request) => JSON.stringify([pipelineParam(request), clientKey(request, config.rateLimit.keyBy)]),
    max: (request) => ruleFor(request)?.max ?? Number.MAX_SAFE_INTEGER,
    timeWindow: (request) => ruleFor(request)?.timeWindowMs ?? 1_000,
    onExceeded: (request) => events.limited(pipelineParam(request)),
    errorResponseBuilder: (_request, context) =>
      new GatewayError('GW_RATE_LIMITED', `rate limit of ${context.max} requests per ${context.after} exceeded; retry after ${Math.max(1, Math.ceil(context.ttl / 1000))} s`),
  };
}

/** Copies the draft-spec RateLimit-* headers to the X-RateLimit-* names many clients still read. */
export function mirrorLegacyRateLimitHeaders(get: (name: string) => unknown, set: (name: string, value: unknown) => void): void {
  for (const name of ['limit', 'remaining', 'reset']) {
    const value = get(`ratelimit-${name}`);
    if (value !== undefined) set(`x-ratelimit-${name}`, value);
  }
}
