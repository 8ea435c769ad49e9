// The status page's numbers (GET /status.json). Runtime state comes from the StatusSource; rates, error
// ratios and latency percentiles are computed from the gateway's own Prometheus metrics, read from the
// registry: cumulative counters and histogram buckets are sampled when the page asks, and each figure is the
// difference over the last minute or less (like PromQL's rate() and histogram_quantile()), so the page and
// a dashboard agree and no second set of numbers is kept.
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/types.ts';
import { DURATION_BUCKETS, METRIC_PREFIX } from '../observability/metrics.ts';
import type { PipelineError, PipelineRuntime, StatusSource, TokenError } from './status-source.ts';

/** Routes whose requests count for a pipeline's rate, errors and latency: the ones that reach Wallaroo. */
const PIPELINE_ROUTES = new Set(['infer', 'openai']);
/** Figures cover at most this much time... */
const WINDOW_MS = 60_000;
/** ...from samples kept at least this far apart (so at most 13 are held, however often the page polls). */
const SAMPLE_SPACING_MS = 5_000;

interface PipelineSample {
  requests: number;
  errors: number;
  /** Cumulative counts per DURATION_BUCKETS bound, then +Inf. */
  latency: number[];
  engine: number[];
  limited: number;
}

interface Sample {
  at: number;
  pipelines: Map<string, PipelineSample>;
}

export interface PipelineStatus {
  name: string;
  workspace: string | number | null;
  pipeline: string;
  urlHost: string | null;
  cacheAgeSeconds: number | null;
  breaker: PipelineRuntime['breaker'];
  inflight: number;
  active: number;
  maxConcurrency: number;
  queued: number;
  maxQueue: number;
  requests: {
    /** Since the gateway started. */
    total: number;
    /** Over the window; null until two samples exist. */
    perSecond: number | null;
    /** Share of 5xx answers over the window; null without requests in it. */
    errorRatio: number | null;
    p50Ms: number | null;
    p99Ms: number | null;
    /** Median engine time Wallaroo reported over the window. */
    engineP50Ms: number | null;
  };
  rateLimit: { max: number; timeWindowMs: number; limitedTotal: number; limitedPerSecond: number | null } | null;
  batching: Record<string, number> | null;
  lastError: PipelineError | null;
}

export interface TokenStatus {
  kind: string;
  valid: boolean;
  /** Unix seconds when the held token expires; null before the first token. */
  expiresAt: number | null;
  expiresInSeconds: number | null;
  lastError: TokenError | null;
}

export interface StatusReport {
  gateway: {
    version: string;
    uptimeSeconds: number;
    draining: boolean;
    tracing: { enabled: boolean; sampleRatio: number };
    /** The span the rates and percentiles cover; null on the first poll. */
    windowSeconds: number | null;
    /** Epoch milliseconds. */
    generatedAt: number;
  };
  tokens: TokenStatus[];
  pipelines: PipelineStatus[];
}

/**
 * PromQL's histogram_quantile over cumulative bucket counts (`cumulative[i]` for `bounds[i]`, the last entry
 * for +Inf): linear within the bucket holding the rank; the highest finite bound when the rank is in +Inf.
 */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number | null {
  const total = cumulative[bounds.length] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let index = 0;
  while (index < bounds.length && (cumulative[index] ?? 0) < rank) index++;
  if (index === bounds.length) return bounds[bounds.length - 1] ?? null;
  const lower = index === 0 ? 0 : bounds[index - 1]!;
  const below = index === 0 ? 0 : cumulative[index - 1]!;
  const inBucket = cumulative[index]! - below;
  if (inBucket <= 0) return bounds[index]!;
  return lower + (bounds[index]! - lower) * ((rank - below) / inBucket);
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
}

async function valuesOf(registry: Registry, name: string): Promise<MetricValue[]> {
  const metric = registry.getSingleMetric(`${METRIC_PREFIX}${name}`);
  if (!metric) return [];
  return (await metric.get()).values as MetricValue[];
}

function bucketIndex(le: string | number | undefined): number {
  if (le === '+Inf') return DURATION_BUCKETS.length;
  return DURATION_BUCKETS.indexOf(Number(le));
}

const emptySample = (): PipelineSample => ({
  requests: 0,
  errors: 0,
  latency: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
  engine: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
  limited: 0,
});

const difference = (now: number[], then: number[]): number[] => now.map((value, i) => value - (then[i] ?? 0));
const milliseconds = (seconds: number | null): number | null => (seconds === null ? null : seconds * 1000);

export interface StatusReporterOptions {
  config: GatewayConfig;
  registry: Registry;
  source: StatusSource;
  version: string;
  now?: () => number;
}

export class StatusReporter {
  private readonly samples: Sample[] = [];
  private readonly now: () => number;
  private readonly startedAt: number;

  constructor(private readonly options: StatusReporterOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    // Every counter is zero when the gateway starts: the first poll's window begins there, not at the next poll.
    this.samples.push({ at: this.startedAt, pipelines: new Map() });
  }

  async report(): Promise<StatusReport> {
    const { config, source } = this.options;
    const at = this.now();
    const current = await this.sample(at);
    while (this.samples.length > 0 && at - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
    const base = this.samples.find((sample) => sample.at < at) ?? null;
    const last = this.samples[this.samples.length - 1];
    if (!last || at - last.at >= SAMPLE_SPACING_MS) this.samples.push(current);
    const seconds = base ? (at - base.at) / 1000 : null;

    const expiry = new Map((await valuesOf(this.options.registry, 'token_expiry_timestamp_seconds')).map((v) => [String(v.labels.kind), v.value]));
    const runtime = new Map(source.pipelines().map((p) => [p.name, p]));
    return {
      gateway: {
        version: this.options.version,
        uptimeSeconds: Math.round((at - this.startedAt) / 1000),
        draining: source.draining(),
        tracing: { enabled: config.tracing.enabled, sampleRatio: config.tracing.sampleRatio },
        windowSeconds: seconds === null ? null : Math.round(seconds * 10) / 10,
        generatedAt: at,
      },
      tokens: source.tokens().map((token) => {
        const expiresAt = expiry.get(token.kind) ?? null;
        return {
          kind: token.kind,
          valid: token.valid,
          expiresAt,
          expiresInSeconds: expiresAt === null ? null : Math.round(expiresAt - at / 1000),
          lastError: token.lastError,
        };
      }),
      pipelines: config.pipelines.map((pipeline) => {
        const now = current.pipelines.get(pipeline.name) ?? emptySample();
        const then = base?.pipelines.get(pipeline.name) ?? emptySample();
        const state = runtime.get(pipeline.name);
        const requests = base ? now.requests - then.requests : 0;
        const rule = pipeline.rateLimit ?? config.rateLimit.default;
        const perSecond = (count: number) => (seconds ? Math.round((count / seconds) * 100) / 100 : null);
        const latency = base ? difference(now.latency, then.latency) : now.latency;
        const engine = base ? difference(now.engine, then.engine) : now.engine;
        return {
          name: pipeline.name,
          workspace: pipeline.workspace,
          pipeline: pipeline.pipeline,
          urlHost: state?.urlHost ?? null,
          cacheAgeSeconds: state?.cacheAgeSeconds ?? null,
          breaker: state?.breaker ?? 'closed',
          inflight: state?.inflight ?? 0,
          active: state?.active ?? 0,
          maxConcurrency: pipeline.maxConcurrency,
          queued: state?.queued ?? 0,
          maxQueue: pipeline.maxQueue,
          requests: {
            total: now.requests,
            perSecond: perSecond(requests),
            errorRatio: base && requests > 0 ? (now.errors - then.errors) / requests : null,
            p50Ms: milliseconds(histogramQuantile(0.5, DURATION_BUCKETS, latency)),
            p99Ms: milliseconds(histogramQuantile(0.99, DURATION_BUCKETS, latency)),
            engineP50Ms: milliseconds(histogramQuantile(0.5, DURATION_BUCKETS, engine)),
          },
          rateLimit: rule
            ? { max: rule.max, timeWindowMs: rule.timeWindowMs, limitedTotal: now.limited, limitedPerSecond: perSecond(now.limited - then.limited) }
            : null,
          batching: state?.batching ?? null,
          lastError: state?.lastError ?? null,
        };
      }),
    };
  }

  /** The cumulative figures per pipeline, as the registry holds them now. */
  private async sample(at: number): Promise<Sample> {
    const { registry } = this.options;
    const pipelines = new Map<string, PipelineSample>();
    const of = (name: unknown): PipelineSample => {
      const key = String(name ?? '');
      let sample = pipelines.get(key);
      if (!sample) {
        sample = emptySample();
        pipelines.set(key, sample);
      }
      return sample;
    };
    const [requests, durations, engine, limited] = await Promise.all([
      valuesOf(registry, 'requests_total'),
      valuesOf(registry, 'request_duration_seconds'),
      valuesOf(registry, 'engine_elapsed_seconds'),
      valuesOf(registry, 'rate_limited_total'),
    ]);
    for (const { value, labels } of requests) {
      if (!PIPELINE_ROUTES.has(String(labels.route))) continue;
      const sample = of(labels.pipeline);
      sample.requests += value;
      if (Number(labels.status) >= 500) sample.errors += value;
    }
    for (const { value, labels, metricName } of durations) {
      const index = bucketIndex(labels.le);
      if (!metricName?.endsWith('_bucket') || index < 0 || !PIPELINE_ROUTES.has(String(labels.route))) continue;
      of(labels.pipeline).latency[index]! += value;
    }
    for (const { value, labels, metricName } of engine) {
      const index = bucketIndex(labels.le);
      if (metricName?.endsWith('_bucket') && index >= 0) of(labels.pipeline).engine[index]! += value;
    }
    for (const { value, labels } of limited) of(labels.pipeline).limited += value;
    return { at, pipelines };
  }
}
