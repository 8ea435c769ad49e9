import type { FastifyReply } from 'fastify';
import type { PipelineConfig } from '../config/types.ts';
import type { GatewayError } from '../errors.ts';
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

/** 'close' listeners one request's response may carry (see the constructor). */
const RESPONSE_LISTENER_LIMIT = 20;

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
    private readonly reply: FastifyReply,
    /** Called once the answer has gone out or was cut (RequestContexts stops counting the request). */
    onClose?: (ctx: RequestContext) => void,
  ) {
    this.signal = this.controller;
    const limitMs = pipeline.timeoutMs;
    this.deadline = performance.now() + limitMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.controller.abort(deadlinePassed(limitMs));
    }, limitMs);
    // A streamed answer's response carries about eleven 'close' listeners, each removed with the response
    // (Fastify's end-of-stream, the request log, the slot, the stalled-caller guard, this context...): past Node's
    // default of ten it wrote a MaxListenersExceededWarning, with a stack, on every request. A response's
    // listeners cannot pile up beyond its own life, so the limit is raised for it alone.
    reply.raw.setMaxListeners(RESPONSE_LISTENER_LIMIT);
    // 'close' before the answer finished: the caller left (or the answer failed); everything waiting stops.
    reply.raw.once('close', () => {
      this.clearDeadline();
      if (!reply.raw.writableFinished) this.controller.abort(callerGone());
      this.reservation?.release();
      onClose?.(this);
    });
  }

  /**
   * Ends the request from outside (the gateway shutting down): every wait stops with `reason`, so a request not
   * answered yet is answered with it by the error handler; an answer already started is cut. Its log line names
   * `reason` either way.
   */
  end(reason: GatewayError): void {
    this.stats.error = { code: reason.code, message: reason.message };
    this.clearDeadline();
    this.controller.abort(reason);
    const response = this.reply.raw;
    if (response.headersSent && !response.writableFinished) response.destroy();
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

/** The contexts of the requests in flight (from their route to the end of their answer), to end them at shutdown. */
export class RequestContexts {
  private readonly open = new Set<RequestContext>();
  private readonly closed = (ctx: RequestContext) => this.open.delete(ctx);

  /** A new request's context, counted until its answer has gone out or was cut. */
  start(pipeline: PipelineConfig, stats: RequestStats, trace: ActiveTrace, reply: FastifyReply): RequestContext {
    const ctx = new RequestContext(pipeline, stats, trace, reply, this.closed);
    this.open.add(ctx);
    return ctx;
  }

  /** Ends every request in flight with `reason` (RequestContext.end); returns how many. */
  endAll(reason: GatewayError): number {
    const ended = [...this.open];
    for (const ctx of ended) ctx.end(reason);
    return ended.length;
  }
}
