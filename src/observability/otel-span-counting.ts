// What becomes of the spans the tracer ends, counted for the tracing metrics: queued, dropped at a full queue,
// exported or failed. Wraps the SDK's batch processor and the OTLP exporter without changing what they do.
import { type Context, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { TracingEvents } from './tracing.ts';

/** Spans handed to the batch processor and not yet taken by its exporter: its queue, mirrored. */
export interface QueueCount {
  spans: number;
}

/**
 * Counts what becomes of spans: the queue length mirrors the batch processor's (spans in, batches out), so a
 * span arriving at a full queue is one it drops.
 */
export class CountingProcessor implements SpanProcessor {
  constructor(
    private readonly inner: SpanProcessor,
    private readonly queue: QueueCount,
    private readonly maxQueueSize: number,
    private readonly onSpans: TracingEvents['onSpans'],
  ) {}

  onStart(span: Parameters<SpanProcessor['onStart']>[0], context: Context): void {
    this.inner.onStart(span, context);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) {
      if (this.queue.spans >= this.maxQueueSize) this.onSpans('dropped', 1);
      else this.queue.spans++;
    }
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/**
 * How the OTLP exporter refuses an export while its concurrency limit's worth are still in flight (a collector
 * that takes exports and never finishes them): those spans never left the gateway, so they count as dropped,
 * not as failed (which says the collector refused them).
 */
const CONCURRENCY_REFUSAL = 'Concurrent export limit reached';

export class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly queue: QueueCount,
    private readonly events: TracingEvents,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.queue.spans -= spans.length;
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        this.events.onSpans('exported', spans.length);
      } else if (result.error?.message === CONCURRENCY_REFUSAL) {
        this.events.onSpans('dropped', spans.length);
      } else {
        this.events.onSpans('failed', spans.length);
        this.events.onExportError(result.error?.message ?? 'export failed');
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
