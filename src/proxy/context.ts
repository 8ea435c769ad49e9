import type { FastifyReply } from 'fastify';
import type { PipelineConfig } from '../config/types.ts';
import { type Bounds, callerGone, deadlinePassed } from '../http/deadline.ts';
import { RequestSignal } from '../http/request-signal.ts';
import type { BufferReservation } from '../limits/buffer-budget.ts';
import type { RequestStats } from '../observability/request-stats.ts';
import type { ActiveTrace } from '../observability/tracing.ts';

export type { RequestStats } from '../observability/request-stats.ts';

// One request's lifecycle on the inference and OpenAI routes, created at the route: the deadline (the pipeline's
// timeoutMs from arrival to Wallaroo's answer headers), one signal that fires when the caller leaves or the
// deadline passes, and the facts for the request's log line and metrics. Every wait on the path takes it.

/** What one call to Wallaroo needs of the work it serves: a request's context, or a micro-batch's (batch-call.ts). */
export interface CallContext extends Bounds {
  readonly pipeline: PipelineConfig;
  readonly stats: RequestStats;
  readonly trace: ActiveTrace;
  reservation: BufferReservation | null;
}

export class RequestContext implements CallContext {
  readonly signal: AbortSignal;
  readonly deadline: number;
  /** The request's share of the process-wide buffer budget; released when the answer has gone out. */
  reservation: BufferReservation | null = null;
  /** Not an AbortController: one costs more than the rest of the context (http/request-signal.ts). */
  private readonly controller = new RequestSignal();
  private timer: NodeJS.Timeout | null;

  constructor(
    readonly pipeline: PipelineConfig,
    readonly stats: RequestStats,
    /** The request's trace (a no-op when tracing is off): phases and the upstream call report to it. */
    readonly trace: ActiveTrace,
    reply: FastifyReply,
  ) {
    this.signal = this.controller;
    const limitMs = pipeline.timeoutMs;
    this.deadline = performance.now() + limitMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.controller.abort(deadlinePassed(limitMs));
    }, limitMs);
    // 'close' before the answer finished: the caller left (or the answer failed); everything waiting stops.
    reply.raw.once('close', () => {
      this.clearDeadline();
      if (!reply.raw.writableFinished) this.controller.abort(callerGone());
      this.reservation?.release();
    });
  }

  /** Wallaroo's answer headers arrived: the deadline is met; the answer body has its own idle bound. */
  answerStarted(): void {
    this.clearDeadline();
  }

  private clearDeadline(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
