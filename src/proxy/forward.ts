import type { DataType } from 'apache-arrow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PipelineConfig } from '../config/types.ts';
import { type ConversionLimits, convertBody } from '../convert/index.ts';
import { type BodyFormat, cachedPlanConversion, MEDIA_TYPES, needsRequestConversion, needsResponseConversion } from '../convert/negotiate.ts';
import { GatewayError } from '../errors.ts';
import type { CircuitBreaker } from '../limits/breaker.ts';
import type { ConcurrencyLimiter } from '../limits/concurrency.ts';
import type { RetryBudget } from '../limits/retry-budget.ts';
import { elapsedFromAnswer, watchEngineElapsed } from '../observability/engine-time.ts';
import { declaredLength, firstHeader } from '../http/headers.ts';
import { assertWithinLimit, MeteredBody, readBody } from './body.ts';
import { callerResponseHeaders } from './headers.ts';
import { readLimited, type RequestStats, UpstreamClient, type UpstreamBody, type UpstreamDeps } from './upstream.ts';
import { callerClosed, upstreamFailure } from './upstream-errors.ts';

export type { RequestStats } from './upstream.ts';

/**
 * The inference route: admission (circuit breaker, concurrency cap), body handling (streamed untouched when no
 * conversion is needed, else read under the limit and converted), the upstream call, and the answer
 * (streamed back, or converted).
 */
export interface ForwardDeps extends UpstreamDeps {
  bodyLimit: number;
  bodyIdleTimeoutMs: number;
  /** Bodies up to this size are kept so a 401/404 can be replayed. */
  replayLimit: number;
  /** Cap on an upstream answer the gateway must buffer (conversion, error bodies). */
  responseLimit: number;
  inputSchemas: ReadonlyMap<string, ReadonlyMap<string, DataType>>;
  /** Budgets on every conversion (conversion.* in the config). */
  conversion: ConversionLimits;
  /** Body limit of the OpenAI-compatible routes. */
  openAiBodyLimit: number;
  limitsFor(pipeline: PipelineConfig): PipelineLimits;
}

export interface PipelineLimits {
  breaker: CircuitBreaker;
  concurrency: ConcurrencyLimiter;
  retryBudget: RetryBudget;
}

/** What an admitted request may use: the caller-gone signal, a slot to take once its body is ready. */
export interface Admission {
  signal: AbortSignal;
  retryBudget: RetryBudget;
  /** Takes a concurrency slot, held until the answer has gone out. */
  takeSlot(): Promise<void>;
}

/** Answers up to this size (declared by Content-Length) are read whole before they are sent on. */
const SMALL_ANSWER_BYTES = 64 * 1024;

/** Failures that say something about Wallaroo's health, for the circuit breaker. */
const UPSTREAM_FAILURES = new Set(['GW_UPSTREAM_TIMEOUT', 'GW_UPSTREAM_UNREACHABLE', 'GW_UPSTREAM_BAD_RESPONSE']);

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

export class Forwarder {
  readonly upstream: UpstreamClient;

  constructor(readonly deps: ForwardDeps) {
    this.upstream = new UpstreamClient(deps);
  }

  /** Runs `work` under the pipeline's circuit breaker and concurrency cap, and records the outcome. */
  async admit(
    pipeline: PipelineConfig,
    reply: FastifyReply,
    stats: RequestStats,
    work: (admission: Admission) => Promise<FastifyReply>,
  ): Promise<FastifyReply> {
    const limits = this.deps.limitsFor(pipeline);
    const { probe } = limits.breaker.admit(); // fail fast while the circuit is open, before reading the body
    // Abort the upstream request (and any wait for a slot) when the caller goes away before its answer.
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    let release: (() => void) | null = null;
    const admission: Admission = {
      signal: abort.signal,
      retryBudget: limits.retryBudget,
      takeSlot: async () => {
        const slot = await limits.concurrency.acquire(abort.signal, pipeline.timeoutMs);
        release = slot;
        reply.raw.once('close', slot); // a streamed answer outlives the handler
        limits.retryBudget.recordRequest();
      },
    };
    try {
      // Awaiting a FastifyReply waits for the response to finish, so the outcome below is final.
      const sent = await work(admission);
      const upstreamFailed = reply.statusCode >= 500 && stats.upstreamStatus !== undefined && stats.upstreamStatus >= 500;
      if (upstreamFailed) limits.breaker.failure(probe);
      else limits.breaker.success(probe);
      return sent;
    } catch (error) {
      (release as (() => void) | null)?.();
      if (error instanceof GatewayError && UPSTREAM_FAILURES.has(error.code)) limits.breaker.failure(probe);
      else limits.breaker.abandon(probe);
      throw error;
    }
  }

  infer(pipeline: PipelineConfig, request: FastifyRequest, reply: FastifyReply, stats: RequestStats): Promise<FastifyReply> {
    const plan = cachedPlanConversion(request.headers['content-type'], request.headers.accept, pipeline.upstreamFormat);
    const declared = declaredLength(request.headers['content-length']);
    assertWithinLimit(declared, this.deps.bodyLimit);
    return this.admit(pipeline, reply, stats, async (admission) => {
      const { deps } = this;
      let body: UpstreamBody;
      if (needsRequestConversion(plan)) {
        const raw = await readBody(request.raw, deps.bodyLimit, deps.bodyIdleTimeoutMs);
        stats.bytesIn = raw.length;
        body = this.convert(raw, plan.inbound, plan.upstreamRequest, pipeline, stats);
      } else if (declared !== null && declared <= deps.replayLimit) {
        body = await readBody(request.raw, deps.bodyLimit, deps.bodyIdleTimeoutMs);
        stats.bytesIn = body.length;
      } else {
        body = new MeteredBody(request.raw, deps.bodyLimit, deps.replayLimit, deps.bodyIdleTimeoutMs);
      }
      if (Buffer.isBuffer(body) && body.length === 0) throw new GatewayError('GW_EMPTY_BODY', 'the request body is empty');

      await admission.takeSlot();
      const call = { pathSuffix: '', contentType: MEDIA_TYPES[plan.upstreamRequest], accept: MEDIA_TYPES[plan.upstreamResponse] };
      const response = await this.upstream.send(pipeline, request, body, call, admission.signal, stats, admission.retryBudget);
      if (body instanceof MeteredBody) stats.bytesIn = body.bytes;

      if (needsResponseConversion(plan) && response.statusCode >= 200 && response.statusCode < 300) {
        const answer = await readLimited(response.body, deps.responseLimit).catch((error: unknown) => {
          throw upstreamFailure(error, pipeline.name, pipeline.timeoutMs);
        });
        this.recordEngineElapsed(pipeline, stats, () => elapsedFromAnswer(answer, MEDIA_TYPES[plan.upstreamResponse], request.url));
        let converted: Buffer;
        try {
          converted = this.convert(answer, plan.upstreamResponse, plan.outbound, pipeline, stats);
        } catch (error) {
          throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `Wallaroo's answer could not be converted: ${(error as Error).message}`);
        }
        stats.bytesOut = converted.length;
        return reply
          .code(response.statusCode)
          .headers(callerResponseHeaders(response.headers, { requestId: request.id, upstreamStatus: response.statusCode, contentType: MEDIA_TYPES[plan.outbound] }))
          .send(converted);
      }
      const length = declaredLength(firstHeader(response.headers['content-length']));
      const { body: answerBody } = response;
      if (!Buffer.isBuffer(answerBody) && length !== null && length <= SMALL_ANSWER_BYTES) {
        // Nearly every inference answer is small: read whole and sent in one write, it costs far less per
        // request than piping a stream through the reply (README, Benchmarks). Larger answers stream.
        // The declared length bounds what undici reads (more or fewer bytes fail the read).
        const answer = await answerBody.arrayBuffer().then((bytes) => Buffer.from(bytes), (error: unknown) => {
          throw admission.signal.aborted ? callerClosed(error) : upstreamFailure(error, pipeline.name, pipeline.timeoutMs);
        });
        stats.bytesOut = answer.length;
        const sent = reply.code(response.statusCode).headers(callerResponseHeaders(response.headers, { requestId: request.id, upstreamStatus: response.statusCode })).send(answer);
        if (response.statusCode < 300) this.recordEngineElapsed(pipeline, stats, () => elapsedFromAnswer(answer, firstHeader(response.headers['content-type']), request.url));
        return sent;
      }
      if (length !== null) stats.bytesOut = length;
      const headers = callerResponseHeaders(response.headers, { requestId: request.id, upstreamStatus: response.statusCode });
      if (length !== null) headers['content-length'] = String(length);
      if (!Buffer.isBuffer(answerBody) && response.statusCode < 300) {
        // Watch the answer only once Fastify pipes it: a listener added earlier would start the flow too soon.
        reply.raw.once('pipe', (source) => {
          if (source !== answerBody) return;
          const onElapsed = (seconds: number) => this.recordEngineElapsed(pipeline, stats, () => seconds);
          watchEngineElapsed(answerBody, firstHeader(response.headers['content-type']), onElapsed, request.url);
        });
      }
      return reply.code(response.statusCode).headers(headers).send(answerBody);
    });
  }

  private recordEngineElapsed(pipeline: PipelineConfig, stats: RequestStats, read: () => number | null): void {
    let seconds: number | null = null;
    try {
      seconds = read();
    } catch {
      seconds = null; // an answer without readable metadata: nothing to report
    }
    if (seconds === null) return;
    stats.engineMs = seconds * 1000;
    this.deps.metrics.engineElapsed.observe({ pipeline: pipeline.name }, seconds);
  }

  private convert(body: Buffer, from: BodyFormat, to: BodyFormat, pipeline: PipelineConfig, stats: RequestStats): Buffer {
    const { value, ms } = timed(() => convertBody(body, from, to, { schema: this.deps.inputSchemas.get(pipeline.name), limits: this.deps.conversion }));
    stats.conversionMs = (stats.conversionMs ?? 0) + ms;
    this.deps.metrics.conversionDuration.observe({ direction: `${from}->${to}` }, ms / 1000);
    return value;
  }
}
