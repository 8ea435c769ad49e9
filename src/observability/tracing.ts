// OpenTelemetry tracing, off by default (config `tracing:`); the SDK is loaded only when it is on
// (otel-tracing.ts). Spans go over OTLP/HTTP (protobuf) through a batching processor with a bounded queue:
// the request path only appends a finished span to an array, so a collector that is down or hangs costs
// traffic nothing (full queue: spans are dropped and counted in
// wallaroo_gateway_trace_spans_total{outcome="dropped"}). No global OpenTelemetry state is registered (no
// context manager, no global provider): each gateway owns its provider, and context is passed explicitly.
//
// The API the request path calls, on `request.trace` (a RequestTrace, set for every request):
//
//   const token = await request.trace.phase('token', () => tokens.current());   // a child span around a wait
//   const span = request.trace.startPhase('conversion');  ...  span.end(error?); // when a callback cannot wrap
//   const call = request.trace.startUpstream(url);                               // the call to Wallaroo
//   call.inject(headers);          // traceparent/tracestate naming this span, for Wallaroo
//   call.set('http.response.status_code', status).end();   // or call.end(error)
//
// Phases are children of the request span (rate_limit, admission, body_read, token, discovery, conversion,
// batch_wait, upstream). The upstream span ends when Wallaroo's answer headers arrive (as
// upstream_duration_seconds measures) but is exported with the request span, carrying the engine time read
// from the answer (wallaroo.engine_elapsed_ms). With tracing off, or for a request that is not sampled,
// every call is a no-op on a shared object; a caller's traceparent then still reaches Wallaroo (unsampled:
// naming the gateway's request span; off: untouched).
import type { AttributeValue } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { TracingConfig } from '../config/types.ts';
import type { GatewayMetrics } from './metrics.ts';

export type PhaseName = 'rate_limit' | 'admission' | 'body_read' | 'token' | 'discovery' | 'conversion' | 'batch_wait' | 'upstream';

/** One phase of a request, as a child span of the request span. */
export interface PhaseSpan {
  /** Adds an attribute (ignored when not recording). */
  set(key: string, value: AttributeValue): PhaseSpan;
  /** Writes traceparent (and tracestate) naming this span into headers bound for Wallaroo. */
  inject(headers: Record<string, string>): void;
  /** Ends the span; an error marks it failed, with its GW code (or name) as error.type. */
  end(error?: unknown): void;
}

/** The trace of one request: what the request path calls (see the top of this file). */
export interface RequestTrace {
  /** The W3C trace id (32 hex digits) when the request is traced, for the log line. */
  readonly traceId: string | undefined;
  /** Runs `work` inside a child span named after the phase. */
  phase<T>(name: PhaseName, work: () => Promise<T>): Promise<T>;
  startPhase(name: PhaseName): PhaseSpan;
  /** A client span for one call to Wallaroo at `url` (each replay or retry gets its own). */
  startUpstream(url: URL): PhaseSpan;
}

/** What the gateway knows once the answer has gone out, for the request span's last attributes. */
export interface RequestOutcome {
  statusCode: number;
  pipeline?: string | undefined;
  upstreamStatus?: number | undefined;
  engineMs?: number | undefined;
  bytesIn?: number | undefined;
  bytesOut?: number | undefined;
  /** The gateway's error code when it answered with one. */
  errorCode?: string | undefined;
  /** The caller left before the answer was complete. */
  abandoned?: boolean;
}

/** A request's trace as the access log holds it: the API above plus the end of the request span. */
export interface ActiveTrace extends RequestTrace {
  finish(outcome: RequestOutcome): void;
}

export type SpanOutcome = 'exported' | 'failed' | 'dropped';

/** What the exporter side reports to: span counts (wallaroo_gateway_trace_spans_total) and export failures. */
export interface TracingEvents {
  onSpans(outcome: SpanOutcome, count: number): void;
  onExportError(reason: string): void;
}

export interface TracingDeps {
  version: string;
  metrics: Pick<GatewayMetrics, 'traceSpans'>;
  logger: Logger;
}

/** What the gateway tells about a request when its span starts. */
export interface RequestStart {
  method: string;
  route: string;
  path: string;
  clientAddress: string;
  userAgent: string | undefined;
  requestId: string;
  headers: Record<string, string | string[] | undefined>;
}

export const NO_SPAN: PhaseSpan = {
  set: () => NO_SPAN,
  inject: () => undefined,
  end: () => undefined,
};

/** The trace of an untraced request: every call is a no-op, nothing is allocated. */
export const NO_TRACE: ActiveTrace = {
  traceId: undefined,
  phase: (_name, work) => work(),
  startPhase: () => NO_SPAN,
  startUpstream: () => NO_SPAN,
  finish: () => undefined,
};

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);

/** The trace id of a caller's W3C traceparent header, when well formed (for the log line with tracing off). */
export function traceIdFromHeader(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const id = TRACEPARENT.exec(value.trim().toLowerCase())?.[1];
  return id === ZERO_TRACE_ID ? undefined : id;
}

/** A gateway's tracer: starts each traced request's span; `shutdown` sends what is queued (bounded in time). */
export interface Tracing {
  readonly config: TracingConfig;
  startRequest(start: RequestStart): ActiveTrace;
  shutdown(): Promise<void>;
}
