// The OpenTelemetry side of tracing.ts: the SDK's tracer provider with a batching processor (bounded queue)
// and the OTLP/HTTP protobuf exporter, and the request traces built on it. Loaded only with tracing on.
import {
  type AttributeValue,
  type Context,
  type HrTime,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { millisToHrTime, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TracingConfig } from '../config/types.ts';
import type { ActiveTrace, PhaseName, PhaseSpan, RequestOutcome, RequestStart, Tracing, TracingEvents } from './tracing.ts';
import { NO_SPAN } from './tracing.ts';
import { CountingExporter, CountingProcessor, type QueueCount } from './otel-span-counting.ts';

const propagator = new W3CTraceContextPropagator();

function errorType(error: unknown): string {
  const coded = error as { code?: unknown; name?: unknown } | null;
  if (coded && typeof coded.code === 'string') return coded.code;
  if (coded && typeof coded.name === 'string') return coded.name;
  return 'error';
}

function failSpan(span: Span, type: string): void {
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

function injectInto(span: Span, headers: Record<string, string>): void {
  // A caller's tracestate belongs to its traceparent: replaced together, or dropped (W3C trace-context 3.3).
  delete headers.tracestate;
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
}

/**
 * Span times for one request, all from the monotonic clock with one wall-clock offset: the SDK's own times
 * start each span at Date.now() (whole milliseconds), which can put a child's end after its parent's.
 */
class RequestClock {
  private readonly offset = Date.now() - (performance.timeOrigin + performance.now());

  now(): HrTime {
    return this.at(performance.now());
  }

  /** `performance.now()` milliseconds as span time. */
  at(monotonicMs: number): HrTime {
    return millisToHrTime(performance.timeOrigin + monotonicMs + this.offset);
  }
}

class Phase implements PhaseSpan {
  constructor(
    protected readonly span: Span,
    protected readonly clock: RequestClock,
  ) {}

  set(key: string, value: AttributeValue): PhaseSpan {
    this.span.setAttribute(key, value);
    return this;
  }

  inject(headers: Record<string, string>): void {
    injectInto(this.span, headers);
  }

  end(error?: unknown): void {
    if (error !== undefined) failSpan(this.span, errorType(error));
    this.span.end(this.clock.now());
  }
}

/** Ends at the answer's headers, exported with the request span so it can carry the engine time. */
class UpstreamPhase extends Phase {
  endedAt: number | null = null;

  override end(error?: unknown): void {
    if (error !== undefined) {
      super.end(error);
      return;
    }
    this.endedAt = performance.now();
  }

  close(engineMs: number | undefined): void {
    if (this.endedAt === null) return;
    if (engineMs !== undefined) this.span.setAttribute('wallaroo.engine_elapsed_ms', engineMs);
    this.span.end(this.clock.at(this.endedAt));
  }
}

/** A sampled request: its span, and its phases as children. */
class RecordedTrace implements ActiveTrace {
  readonly traceId: string;
  private readonly parent: Context;
  private upstream: UpstreamPhase | null = null;
  private finished = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly clock: RequestClock,
  ) {
    this.traceId = span.spanContext().traceId;
    this.parent = trace.setSpan(ROOT_CONTEXT, span);
  }

  async phase<T>(name: PhaseName, work: () => Promise<T>): Promise<T> {
    const span = this.startPhase(name);
    try {
      const value = await work();
      span.end();
      return value;
    } catch (error) {
      span.end(error);
      throw error;
    }
  }

  startPhase(name: PhaseName): PhaseSpan {
    return new Phase(this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: this.clock.now() }, this.parent), this.clock);
  }

  startUpstream(url: URL): PhaseSpan {
    const span = this.tracer.startSpan('upstream', {
      kind: SpanKind.CLIENT,
      startTime: this.clock.now(),
      attributes: {
        'http.request.method': 'POST',
        'server.address': url.hostname,
        'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        'url.path': url.pathname,
      },
    }, this.parent);
    this.upstream?.close(undefined); // an earlier attempt (replay, retry) is over
    this.upstream = new UpstreamPhase(span, this.clock);
    return this.upstream;
  }

  finish(outcome: RequestOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.upstream?.close(outcome.engineMs);
    const { span } = this;
    span.setAttribute('http.response.status_code', outcome.statusCode);
    if (outcome.pipeline !== undefined) span.setAttribute('wallaroo.pipeline', outcome.pipeline);
    if (outcome.upstreamStatus !== undefined) span.setAttribute('gateway.upstream_status', outcome.upstreamStatus);
    if (outcome.engineMs !== undefined) span.setAttribute('wallaroo.engine_elapsed_ms', outcome.engineMs);
    if (outcome.bytesIn !== undefined) span.setAttribute('http.request.body.size', outcome.bytesIn);
    if (outcome.bytesOut !== undefined) span.setAttribute('http.response.body.size', outcome.bytesOut);
    if (outcome.abandoned) failSpan(span, 'caller_closed');
    else if (outcome.statusCode >= 500) failSpan(span, outcome.errorCode ?? String(outcome.statusCode));
    else if (outcome.errorCode !== undefined) span.setAttribute('error.type', outcome.errorCode);
    span.end(this.clock.now());
  }
}

/** A request that is not sampled: no spans, but Wallaroo still gets a traceparent continuing the trace. */
class UnsampledTrace implements ActiveTrace {
  readonly traceId: string;
  private readonly carrier: PhaseSpan;

  constructor(span: Span) {
    this.traceId = span.spanContext().traceId;
    this.carrier = { set: () => this.carrier, inject: (headers) => injectInto(span, headers), end: () => undefined };
  }

  phase<T>(_name: PhaseName, work: () => Promise<T>): Promise<T> {
    return work();
  }

  startPhase(): PhaseSpan {
    return NO_SPAN;
  }

  startUpstream(): PhaseSpan {
    return this.carrier;
  }

  finish(): void {}
}

/** Closing waits this long at most for the last spans to go out (a hanging collector must not hold shutdown). */
const SHUTDOWN_FLUSH_MS = 2_000;

export class OtelTracing implements Tracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;

  constructor(readonly config: TracingConfig, version: string, events: TracingEvents) {
    // At most two exports in flight: with a collector that hangs, each is cut off after exportTimeoutMs.
    const otlp = new OTLPTraceExporter({ url: config.endpoint, timeoutMillis: config.exportTimeoutMs, concurrencyLimit: 2 });
    const queue: QueueCount = { spans: 0 };
    const batches = new BatchSpanProcessor({
      exporter: new CountingExporter(otlp, queue, events),
      maxQueueSize: config.maxQueueSize,
      maxExportBatchSize: config.maxExportBatchSize,
      scheduledDelayMillis: config.exportIntervalMs,
      exportTimeoutMillis: config.exportTimeoutMs,
    });
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': version }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: [new CountingProcessor(batches, queue, config.maxQueueSize, events.onSpans)],
    });
    this.tracer = this.provider.getTracer('wallaroo-gateway', version);
  }

  /** The request span (a child of the caller's traceparent when it sent one), and the request's trace. */
  startRequest(start: RequestStart): ActiveTrace {
    const parent = propagator.extract(ROOT_CONTEXT, start.headers, defaultTextMapGetter);
    const clock = new RequestClock();
    const span = this.tracer.startSpan(`${start.method} ${start.route}`, {
      kind: SpanKind.SERVER,
      startTime: clock.now(),
      attributes: {
        'http.request.method': start.method,
        'http.route': start.route,
        'url.path': start.path,
        'client.address': start.clientAddress,
        'gateway.request_id': start.requestId,
        ...(start.userAgent === undefined ? {} : { 'user_agent.original': start.userAgent }),
      },
    }, parent);
    return span.isRecording() ? new RecordedTrace(this.tracer, span, clock) : new UnsampledTrace(span);
  }

  /** Sends what is queued (bounded in time) and stops. */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.min(SHUTDOWN_FLUSH_MS, this.config.exportTimeoutMs));
      timer.unref();
    });
    await Promise.race([this.provider.shutdown().catch(() => undefined), bound]);
    clearTimeout(timer);
  }
}
