import type { DataType } from 'apache-arrow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Batcher } from '../batching/index.ts';
import type { PipelineConfig } from '../config/types.ts';
import { type ConversionLimits, convertBody, type ReserveWorkingMemory } from '../convert/index.ts';
import { answerFormat, type BodyFormat, type ConversionPlan, cachedPlanConversion, MEDIA_TYPES, needsRequestConversion } from '../convert/negotiate.ts';
import { explainError, GatewayError } from '../errors.ts';
import { inviteBody } from '../http/expect-continue.ts';
import { declaredLength, declaredRequestLength, firstHeader } from '../http/headers.ts';
import type { AdmissionGate, PipelineSlot } from '../limits/admission.ts';
import type { BufferReservation } from '../limits/buffer-budget.ts';
import type { Verdict } from '../limits/breaker.ts';
import { verdictOnAnswer } from '../limits/verdict.ts';
import { elapsedFromAnswer, watchEngineElapsed } from '../observability/engine-time.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { assertFinalStatus, assertIdentityEncoding, boundAnswerBody, ERROR_ANSWER_LIMIT, readAnswer, relayAnswer } from './answer.ts';
import { assertDeclaredBody, type BodyLimits, emptyBody, MeteredBody, readBody } from './body.ts';
import type { CallContext, RequestContext } from './context.ts';
import { callerResponseHeaders } from './headers.ts';
import type { UpstreamAnswer, UpstreamBody, UpstreamClient } from './upstream.ts';
import { upstreamFailure } from './upstream-errors.ts';

// The inference route, in request order: negotiate (415/406 at once), the admission gate's breaker check, the
// body (streamed untouched when nothing needs converting, else read under limits and budgets and converted),
// a concurrency slot, the upstream call, and the answer (relayed, or converted when asked). Every wait takes the
// request context; the verdict on Wallaroo goes to the breaker once, and the slot is freed when the answer has
// gone out.

export interface InferenceDeps {
  upstream: UpstreamClient;
  metrics: GatewayMetrics;
  gateFor(pipeline: PipelineConfig): AdmissionGate;
  bodyLimit: number;
  bodyIdleTimeoutMs: number;
  /** Bodies up to this size are kept so a 401/404/503 can be replayed. */
  replayLimit: number;
  /** Cap on an upstream answer the gateway must read whole to convert it. */
  responseLimit: number;
  inputSchemas: ReadonlyMap<string, ReadonlyMap<string, DataType>>;
  /** Budgets on every conversion (conversion.* in the config). */
  conversion: ConversionLimits;
  /** The pipeline's micro-batcher, when batching is on for it. */
  batcherFor(pipeline: PipelineConfig): Batcher<RequestContext, PipelineSlot> | undefined;
}

/** The verdict on Wallaroo a failed call carries: only transport failures and timeouts are Wallaroo's. */
export function verdictOnError(error: unknown): Verdict {
  if (!(error instanceof GatewayError)) return 'neutral';
  return error.code === 'GW_UPSTREAM_TIMEOUT' || error.code === 'GW_UPSTREAM_UNREACHABLE' || error.code === 'GW_UPSTREAM_BAD_RESPONSE' ? 'unhealthy' : 'neutral';
}

/**
 * A success is judged when its body has been read: healthy at its end, by its failure otherwise (an answer cut or
 * never finished is Wallaroo's failure; a caller leaving is nobody's: the slot's release judges it neutral), and
 * that failure is the request's.
 */
function judgeWhenRead(ctx: CallContext, slot: PipelineSlot, body: UpstreamAnswer['body']): void {
  if (Buffer.isBuffer(body) || body.readableEnded) {
    slot.judge('healthy');
    return;
  }
  body.once('end', () => slot.judge('healthy'));
  body.once('error', (error: unknown) => {
    const failure = upstreamFailure(error, ctx.pipeline.name, ctx.pipeline.timeoutMs);
    explainError(error, failure); // for the error handler, when nothing was relayed yet
    slot.judge(verdictOnError(failure));
    // Failing mid-relay (a broken chunk, a reset) cuts the caller's answer: the log line and the metrics name
    // Wallaroo's failure, not the caller leaving. (An answer read whole fails the request, logged as that error.)
    const { code, name } = (error ?? {}) as { code?: string; name?: string };
    if (code !== 'ERR_STREAM_PREMATURE_CLOSE' && name !== 'AbortError') ctx.stats.error ??= { code: failure.code, message: failure.message };
  });
}

/** Reads Wallaroo's error answers whole and judges the call; a success is judged when its body has been read. */
export async function judgeAnswer(ctx: CallContext, slot: PipelineSlot, response: UpstreamAnswer): Promise<UpstreamAnswer> {
  assertFinalStatus(ctx, response.statusCode);
  if (response.statusCode < 400) {
    judgeWhenRead(ctx, slot, response.body);
    return response;
  }
  const declared = declaredLength(firstHeader(response.headers['content-length']));
  const text = await readAnswer(ctx, response.body, ERROR_ANSWER_LIMIT, declared);
  slot.judge(verdictOnAnswer(response.statusCode, text.toString('utf8')));
  return { statusCode: response.statusCode, headers: { ...response.headers, 'content-length': String(text.length) }, body: text };
}

/** Takes the slot and makes the call, judging it and freeing the slot when the answer has gone out. */
export async function callWithSlot(
  ctx: RequestContext,
  reply: FastifyReply,
  gate: AdmissionGate,
  call: (slot: PipelineSlot) => Promise<UpstreamAnswer>,
): Promise<{ slot: PipelineSlot; response: UpstreamAnswer }> {
  const slot = await ctx.trace.phase('admission', () => gate.slot(ctx));
  reply.raw.once('close', slot.release); // a streamed answer outlives the handler
  try {
    const response = await judgeAnswer(ctx, slot, await call(slot));
    ctx.answerStarted();
    return { slot, response };
  } catch (error) {
    slot.judge(verdictOnError(error));
    throw error;
  }
}

/**
 * A conversion's working memory charged to `reservation` on top of the `input` bytes it converts: 413
 * GW_BODY_TOO_COMPLEX when the two could never fit server.bufferBudget, the reservation's 503 GW_OVERLOADED when
 * they do not fit now.
 */
export function chargeTo(reservation: BufferReservation, input: number, name: string): ReserveWorkingMemory {
  return (bytes, what) => {
    const total = input + bytes;
    if (total > reservation.limit) {
      throw new GatewayError('GW_BODY_TOO_COMPLEX', `${what}: with ${name}'s ${input} bytes that is more than server.bufferBudget (${reservation.limit} bytes) holds`);
    }
    reservation.growTo(total);
  };
}

export class InferenceRoute {
  constructor(private readonly deps: InferenceDeps) {}

  async handle(ctx: RequestContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { deps } = this;
    const { pipeline, stats } = ctx;
    const plan = cachedPlanConversion(request.headers['content-type'], request.headers.accept, pipeline.upstreamFormat);
    const declared = declaredRequestLength(request.headers);
    assertDeclaredBody(declared, deps.bodyLimit); // before the gate
    const gate = deps.gateFor(pipeline);
    ctx.reservation = gate.beforeBody();
    inviteBody(request.raw, reply.raw); // only now: a declared length over the limit was refused without a 100
    const limits: BodyLimits = { limit: deps.bodyLimit, idleTimeoutMs: deps.bodyIdleTimeoutMs, bounds: ctx, reservation: ctx.reservation };

    let body: UpstreamBody;
    if (needsRequestConversion(plan)) {
      const encoding = request.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', `a body sent with Content-Encoding ${JSON.stringify(encoding)} cannot be converted; send it uncompressed`);
      }
      const raw = await ctx.trace.phase('body_read', () => readBody(request.raw, limits, declared));
      stats.bytesIn = raw.length;
      body = this.convert(raw, plan.inbound, plan.upstreamRequest, pipeline, ctx, ctx.reservation, 'the body');
    } else if (declared !== null && declared <= deps.replayLimit) {
      body = await ctx.trace.phase('body_read', () => readBody(request.raw, limits, declared));
      stats.bytesIn = body.length;
    } else {
      body = new MeteredBody(request.raw, limits, deps.replayLimit);
    }
    if (Buffer.isBuffer(body) && body.length === 0) throw emptyBody();

    const queryAt = request.url.indexOf('?');
    const query = queryAt >= 0 ? request.url.slice(queryAt + 1) : '';
    // Pipelines without batching pay no extra await here.
    const batcher = deps.batcherFor(pipeline);
    const response = (batcher && (await this.viaBatch(batcher, ctx, request, plan, body, query))) ?? (await this.callAlone(ctx, request, reply, gate, plan, body, query));
    boundAnswerBody(ctx, response.body, pipeline.timeoutMs, reply.raw);
    if (body instanceof MeteredBody) stats.bytesIn = body.bytes;

    // Wallaroo answers in the format asked for; one that answers in another known format anyway is converted to
    // what the caller wants, rather than relayed under a type the caller did not ask for.
    const answered = answerFormat(firstHeader(response.headers['content-type'])) ?? plan.upstreamResponse;
    if (response.statusCode >= 200 && response.statusCode < 300 && answered !== plan.outbound) {
      assertIdentityEncoding(ctx, response.headers);
      const answer = await readAnswer(ctx, response.body, deps.responseLimit, declaredLength(firstHeader(response.headers['content-length'])));
      this.recordEngineTime(ctx, () => elapsedFromAnswer(answer, MEDIA_TYPES[answered], request.url));
      let converted: Buffer;
      try {
        converted = this.convert(answer, answered, plan.outbound, pipeline, ctx, ctx.reservation, "Wallaroo's answer");
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'GW_OVERLOADED') throw error; // the budget is busy now
        throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `Wallaroo's answer could not be converted${error instanceof GatewayError ? `: ${error.message}` : ''}`);
      }
      stats.bytesOut = converted.length;
      return reply
        .code(response.statusCode)
        .headers(callerResponseHeaders(response.headers, { requestId: request.id, upstreamStatus: response.statusCode, contentType: MEDIA_TYPES[plan.outbound] }))
        .send(converted);
    }
    return relayAnswer(ctx, reply, request.id, response, {
      bodyTimeoutMs: deps.bodyIdleTimeoutMs,
      onWholeAnswer: (answer, contentType) => this.recordEngineTime(ctx, () => elapsedFromAnswer(answer, contentType, request.url)),
      onStreamedAnswer: (stream, contentType) =>
        watchEngineElapsed(stream as never, contentType, (seconds) => this.recordEngineTime(ctx, () => seconds), request.url),
    });
  }

  /** The call to Wallaroo for this request alone: a slot, the call, the verdict. */
  private async callAlone(ctx: RequestContext, request: FastifyRequest, reply: FastifyReply, gate: AdmissionGate, plan: ConversionPlan, body: UpstreamBody, query: string): Promise<UpstreamAnswer> {
    const target = await this.deps.upstream.prepare(ctx);
    const { response } = await callWithSlot(ctx, reply, gate, (slot) =>
      this.deps.upstream.send(ctx, target, {
        pathSuffix: '',
        query,
        contentType: MEDIA_TYPES[plan.upstreamRequest],
        accept: MEDIA_TYPES[plan.upstreamResponse],
        body,
        callerHeaders: request.headers,
        requestId: request.id,
      }, slot.retryBudget),
    );
    return response;
  }

  /**
   * On a batched pipeline: this request's rows of a shared call's answer, or null when it goes alone (nothing
   * to wait for, or a body that cannot share a call: streamed, compressed, unreadable, too big).
   */
  private async viaBatch(
    batcher: Batcher<RequestContext, PipelineSlot>,
    ctx: RequestContext,
    request: FastifyRequest,
    plan: ConversionPlan,
    body: UpstreamBody,
    query: string,
  ): Promise<UpstreamAnswer | null> {
    const encoding = request.headers['content-encoding'];
    const waiting = Buffer.isBuffer(body) && (encoding === undefined || encoding === 'identity')
      ? batcher.submit(ctx, { body, format: plan.upstreamRequest, answerFormat: plan.upstreamResponse, query, requestId: request.id })
      : null;
    if (!waiting) {
      this.deps.metrics.batchWait.observe({ pipeline: ctx.pipeline.name }, 0);
      return null;
    }
    const { answer, batchId, batchSize } = await waiting;
    ctx.answerStarted();
    ctx.stats.batchId = batchId;
    ctx.stats.batchSize = batchSize;
    ctx.reservation?.growTo((ctx.reservation?.bytes ?? 0) + answer.body.length);
    return answer;
  }

  private recordEngineTime(ctx: RequestContext, read: () => number | null): void {
    let seconds: number | null = null;
    try {
      seconds = read();
    } catch {
      seconds = null; // an answer without readable metadata: nothing to report
    }
    if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return;
    ctx.stats.engineMs = seconds * 1000;
    this.deps.metrics.engineElapsed.observe({ pipeline: ctx.pipeline.name }, seconds);
  }

  /**
   * Converts `body`, its working memory charged to `reservation` before it is taken (413 when it could never fit
   * server.bufferBudget, 503 when it does not fit now); the reservation then shrinks to the input and its
   * converted copy. `name` says whose bytes these are in a refusal.
   */
  private convert(body: Buffer, from: BodyFormat, to: BodyFormat, pipeline: PipelineConfig, ctx: RequestContext, reservation: BufferReservation, name: string): Buffer {
    const held = reservation.bytes;
    const reserve = chargeTo(reservation, body.length, name);
    const started = performance.now();
    const span = ctx.trace.startPhase('conversion').set('wallaroo_gateway.conversion', `${from}->${to}`);
    let value: Buffer;
    try {
      value = convertBody(body, from, to, { schema: this.deps.inputSchemas.get(pipeline.name), limits: this.deps.conversion, reserve });
    } catch (error) {
      span.end(error);
      throw error;
    }
    span.end();
    reservation.resizeTo(Math.max(held, body.length + value.length));
    const ms = performance.now() - started;
    ctx.stats.conversionMs = (ctx.stats.conversionMs ?? 0) + ms;
    this.deps.metrics.conversionDuration.observe({ direction: `${from}->${to}` }, ms / 1000);
    return value;
  }
}
