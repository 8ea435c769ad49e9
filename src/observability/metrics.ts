import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';

export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const METRIC_PREFIX = 'wallaroo_gateway_';

/** Rows per micro-batch: powers of two up to well past the usual maxRows. */
export const BATCH_ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
/** Time a request waited for its batch to be sent: maxDelayMs is a few milliseconds. */
export const BATCH_WAIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1];

export const CIRCUIT_STATE_VALUE = { closed: 0, open: 1, 'half-open': 2 } as const;

/**
 * Every metric of SPEC.md "Metrics", registered on a registry passed in (no global state, so two gateways in
 * one process, as tests run them, do not collide). Buckets run from 0.5 ms to 30 s: gateway overhead is
 * sub-millisecond, inference can take many seconds.
 */
export function createMetrics(registry: Registry, options: { defaultMetrics?: boolean } = {}) {
  const prefix = METRIC_PREFIX;
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: `${prefix}requests_total`, help: 'Requests answered by the gateway.', labelNames: ['pipeline', 'route', 'status'] as const, registers }),
    requestDuration: new Histogram({ name: `${prefix}request_duration_seconds`, help: 'Total time from request to the last byte of the answer, as the caller sees it.', labelNames: ['pipeline', 'route'] as const, buckets: DURATION_BUCKETS, registers }),
    upstreamDuration: new Histogram({ name: `${prefix}upstream_duration_seconds`, help: 'Time Wallaroo took to answer (headers), per upstream status.', labelNames: ['pipeline', 'status'] as const, buckets: DURATION_BUCKETS, registers }),
    engineElapsed: new Histogram({ name: `${prefix}engine_elapsed_seconds`, help: "Engine time Wallaroo reports in the answer's metadata.elapsed.", labelNames: ['pipeline'] as const, buckets: DURATION_BUCKETS, registers }),
    tokenRequests: new Counter({ name: `${prefix}token_requests_total`, help: 'Token endpoint requests by token kind and result.', labelNames: ['kind', 'result'] as const, registers }),
    tokenExpiry: new Gauge({ name: `${prefix}token_expiry_timestamp_seconds`, help: 'When the current token expires (Unix seconds).', labelNames: ['kind'] as const, registers }),
    discoveryCache: new Counter({ name: `${prefix}discovery_cache_total`, help: 'Inference URL cache lookups: hit, miss, stale, invalidated, negative (a failed lookup remembered).', labelNames: ['result'] as const, registers }),
    conversionDuration: new Histogram({ name: `${prefix}conversion_duration_seconds`, help: 'Time spent converting bodies, by direction.', labelNames: ['direction'] as const, buckets: DURATION_BUCKETS, registers }),
    rateLimited: new Counter({ name: `${prefix}rate_limited_total`, help: 'Requests refused by rate limiting.', labelNames: ['pipeline'] as const, registers }),
    rateLimitStoreErrors: new Counter({ name: `${prefix}rate_limit_store_errors_total`, help: 'Rate-limit store failures (Redis down); the request was let through when failOpen.', labelNames: ['outcome'] as const, registers }),
    callerRefusals: new Counter({ name: `${prefix}caller_refusals_total`, help: 'Requests refused before their body was read because of who called: unauthenticated, forbidden, keys_unavailable.', labelNames: ['pipeline', 'reason'] as const, registers }),
    callerKeyFetches: new Counter({ name: `${prefix}caller_key_fetches_total`, help: "Fetches of the token issuer's keys (JWKS, or the mounted file): success, failure.", labelNames: ['result'] as const, registers }),
    callerRequests: new Counter({ name: `${prefix}caller_requests_total`, help: 'Answers per verified caller identity; counted only when callers.identityMetricLabel is true (one series per identity).', labelNames: ['pipeline', 'caller', 'status'] as const, registers }),
    circuitState: new Gauge({ name: `${prefix}circuit_state`, help: 'Circuit breaker state per pipeline: 0 closed, 1 open, 2 half-open.', labelNames: ['pipeline'] as const, registers }),
    streamFirstByte: new Histogram({ name: `${prefix}stream_first_byte_seconds`, help: 'Time from request to the first byte of a streamed (SSE) answer.', labelNames: ['pipeline'] as const, buckets: DURATION_BUCKETS, registers }),
    llmTokens: new Counter({ name: `${prefix}llm_tokens_total`, help: "Prompt and completion tokens from OpenAI-compatible answers' usage.", labelNames: ['pipeline', 'kind'] as const, registers }),
    inflight: new Gauge({ name: `${prefix}inflight_requests`, help: 'Requests in flight per pipeline.', labelNames: ['pipeline'] as const, registers }),
    batchRows: new Histogram({ name: `${prefix}batch_rows`, help: 'Rows per call to Wallaroo on micro-batched pipelines (a request sent alone counts as one call).', labelNames: ['pipeline'] as const, buckets: BATCH_ROW_BUCKETS, registers }),
    batchWait: new Histogram({ name: `${prefix}batch_wait_seconds`, help: 'Time a request on a micro-batched pipeline waited for its batch to be sent (0 when sent alone at once).', labelNames: ['pipeline'] as const, buckets: BATCH_WAIT_BUCKETS, registers }),
    traceSpans: new Counter({ name: `${prefix}trace_spans_total`, help: 'Trace spans by outcome: exported, failed (the collector refused or was unreachable), dropped (export queue full, or every export slot held by a collector that does not finish them).', labelNames: ['outcome'] as const, registers }),
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;

/**
 * The metrics as the event callbacks the other rooms report to (auth's TokenEvents, limits' RateLimitEvents,
 * callers' CallerEvents, discovery's results), so the composition root only hands them over.
 */
export function metricEvents(metrics: GatewayMetrics) {
  return {
    tokens: {
      tokenRequest: (kind: string, result: string) => metrics.tokenRequests.inc({ kind, result }),
      tokenExpiry: (kind: string, at: number) => metrics.tokenExpiry.set({ kind }, at),
    },
    discovery: (result: string) => metrics.discoveryCache.inc({ result }),
    rateLimit: {
      limited: (pipeline: string) => metrics.rateLimited.inc({ pipeline }),
      storeError: (outcome: string) => metrics.rateLimitStoreErrors.inc({ outcome }),
    },
    callers: {
      refused: (pipeline: string | null, reason: string) => metrics.callerRefusals.inc({ pipeline: pipeline ?? '', reason }),
      keyFetch: (result: string) => metrics.callerKeyFetches.inc({ result }),
      answered: (pipeline: string, caller: string, status: number) => metrics.callerRequests.inc({ pipeline, caller, status: String(status) }),
    },
  };
}
