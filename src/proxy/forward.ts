import { Readable } from 'node:stream';
import type { DataType } from 'apache-arrow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { TokenManager } from '../auth/token-manager.ts';
import type { PipelineConfig } from '../config/load.ts';
import { convertBody } from '../convert/index.ts';
import { type ConversionPlan, MEDIA_TYPES, needsRequestConversion, needsResponseConversion, planConversion } from '../convert/negotiate.ts';
import type { PipelineDirectory, ResolvedPipeline } from '../discovery/directory.ts';
import { GatewayError } from '../errors.ts';
import { elapsedFromJsonText, elapsedFromTable, watchEngineElapsed } from '../observability/engine-elapsed.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { readArrow } from '../convert/arrow-to-json.ts';
import { assertWithinLimit, declaredLength, MeteredBody, readBody } from './body.ts';
import { callerResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { upstreamFailure } from './upstream-errors.ts';
import type { CircuitBreaker } from '../limits/breaker.ts';
import type { ConcurrencyLimiter, Release } from '../limits/concurrency.ts';
import { failedBeforeSending, type RetryBudget } from '../limits/retry-budget.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Forwards one inference request: resolve token and URL, send the body (streamed untouched when no
 * conversion is needed), and on a 401 (token refused) or a 404 from a discovered URL (pipeline redeployed)
 * refresh that one thing and replay once. Never a loop: each replay reason is used at most once.
 */
export interface ForwardDeps {
  tokens: TokenManager;
  directory: PipelineDirectory;
  dispatcherFor(pipeline: PipelineConfig): Dispatcher;
  metrics: GatewayMetrics;
  bodyLimit: number;
  bodyIdleTimeoutMs: number;
  /** Bodies up to this size are kept so a 401/404 can be replayed. */
  replayLimit: number;
  /** Cap on an upstream answer the gateway must buffer (conversion, error bodies). */
  responseLimit: number;
  inputSchemas: ReadonlyMap<string, ReadonlyMap<string, DataType>>;
  limitsFor(pipeline: PipelineConfig): PipelineLimits;
}

export interface PipelineLimits {
  breaker: CircuitBreaker;
  concurrency: ConcurrencyLimiter;
  retryBudget: RetryBudget;
}

/** Failures that say something about Wallaroo's health, for the circuit breaker. */
const UPSTREAM_FAILURES = new Set(['GW_UPSTREAM_TIMEOUT', 'GW_UPSTREAM_UNREACHABLE', 'GW_UPSTREAM_BAD_RESPONSE']);

/** Per-request facts for the one log line and the metrics. */
export interface RequestStats {
  route: string;
  pipeline?: string;
  upstreamStatus?: number;
  upstreamMs?: number;
  conversionMs?: number;
  /** Engine time Wallaroo reported in metadata.elapsed. */
  engineMs?: number;
  bytesIn?: number;
  bytesOut?: number;
  replays?: string[];
  retries?: number;
}

type UpstreamBody = Buffer | MeteredBody;

/** Wallaroo's answer; the body is already a Buffer when the gateway had to read it (a 404 it looked into). */
interface UpstreamAnswer {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'] | Buffer;
}

const ERROR_BODY_LIMIT = 64 * 1024;

async function readLimited(body: UpstreamAnswer['body'], limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      body.destroy();
      throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `Wallaroo's answer exceeds ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

export class Forwarder {
  constructor(private readonly deps: ForwardDeps) {}

  async forward(
    pipeline: PipelineConfig,
    request: FastifyRequest,
    reply: FastifyReply,
    stats: RequestStats,
  ): Promise<FastifyReply> {
    const { deps } = this;
    const plan = planConversion(request.headers['content-type'], request.headers.accept, pipeline.upstreamFormat);
    const declared = declaredLength(request.headers['content-length']);
    assertWithinLimit(declared, deps.bodyLimit);
    const limits = deps.limitsFor(pipeline);
    const { probe } = limits.breaker.admit(); // fail fast while the circuit is open, before reading the body
    let release: Release | null = null;
    try {
      const sent = await this.forwardAdmitted(pipeline, request, reply, stats, plan, declared, limits, (slot) => {
        release = slot;
        // Held until the answer has gone out: a streamed answer outlives this handler.
        reply.raw.once('close', slot);
      });
      // (Awaiting a FastifyReply waits for the response to finish, so the outcome below is final.)
      const status = reply.statusCode;
      if (status >= 500 && stats.upstreamStatus !== undefined && stats.upstreamStatus >= 500) limits.breaker.failure(probe);
      else limits.breaker.success(probe);
      return sent;
    } catch (error) {
      (release as Release | null)?.();
      if (error instanceof GatewayError && UPSTREAM_FAILURES.has(error.code)) limits.breaker.failure(probe);
      else limits.breaker.abandon(probe);
      throw error;
    }
  }

  private async forwardAdmitted(
    pipeline: PipelineConfig,
    request: FastifyRequest,
    reply: FastifyReply,
    stats: RequestStats,
    plan: ConversionPlan,
    declared: number | null,
    limits: PipelineLimits,
    onSlot: (release: Release) => void,
  ): Promise<FastifyReply> {
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

    // Abort the upstream request when the caller goes away before the answer is complete.
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);

    onSlot(await limits.concurrency.acquire(abort.signal, pipeline.timeoutMs));
    limits.retryBudget.recordRequest();
    const response = await this.send(pipeline, request, body, plan, abort.signal, stats, limits.retryBudget);
    if (body instanceof MeteredBody) stats.bytesIn = body.bytes;

    if (needsResponseConversion(plan) && response.statusCode >= 200 && response.statusCode < 300) {
      const answer = await readLimited(response.body, deps.responseLimit).catch((error: unknown) => {
        throw upstreamFailure(error, pipeline.name, pipeline.timeoutMs);
      });
      this.recordEngineElapsed(pipeline, stats, () => {
        if (plan.upstreamResponse === 'json') return elapsedFromJsonText(answer.subarray(0, 64 * 1024).toString('utf8'));
        return elapsedFromTable(readArrow(answer));
      });
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
    const length = Number(response.headers['content-length']);
    if (Number.isFinite(length)) stats.bytesOut = length;
    const headers = callerResponseHeaders(response.headers, { requestId: request.id, upstreamStatus: response.statusCode });
    if (Number.isFinite(length)) headers['content-length'] = String(length);
    const { body: answerBody } = response;
    if (!Buffer.isBuffer(answerBody) && response.statusCode < 300) {
      // Watch the answer only once Fastify pipes it: a listener added earlier would start the flow too soon.
      reply.raw.once('pipe', (source) => {
        if (source !== answerBody) return;
        const contentType = response.headers['content-type'];
        watchEngineElapsed(answerBody, Array.isArray(contentType) ? contentType[0] : contentType, (seconds) =>
          this.recordEngineElapsed(pipeline, stats, () => seconds),
        );
      });
    }
    return reply.code(response.statusCode).headers(headers).send(answerBody);
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

  private convert(body: Buffer, from: ConversionPlan['inbound'], to: ConversionPlan['inbound'], pipeline: PipelineConfig, stats: RequestStats): Buffer {
    const { value, ms } = timed(() => convertBody(body, from, to, { schema: this.deps.inputSchemas.get(pipeline.name) }));
    stats.conversionMs = (stats.conversionMs ?? 0) + ms;
    this.deps.metrics.conversionDuration.observe({ direction: `${from}->${to}` }, ms / 1000);
    return value;
  }

  private async send(
    pipeline: PipelineConfig,
    request: FastifyRequest,
    body: UpstreamBody,
    plan: ConversionPlan,
    signal: AbortSignal,
    stats: RequestStats,
    retryBudget: RetryBudget,
  ): Promise<UpstreamAnswer> {
    const { deps } = this;
    const queryAt = request.url.indexOf('?');
    const query = queryAt >= 0 ? request.url.slice(queryAt + 1) : '';
    let [token, resolved] = await Promise.all([deps.tokens.current(), deps.directory.resolve(pipeline)]);
    const replays: string[] = [];
    stats.replays = replays;
    let firstAttempt = true;
    for (;;) {
      let payload: Buffer | Readable;
      if (Buffer.isBuffer(body)) payload = body;
      else if (firstAttempt) payload = Readable.from(body.stream(), { objectMode: false });
      else payload = body.replay() as Buffer;
      firstAttempt = false;
      const response = await this.dispatchWithRetries(pipeline, resolved, query, token, payload, plan, request, signal, stats, body, retryBudget);

      if (response.statusCode === 401) {
        await response.body.dump().catch(() => undefined);
        deps.tokens.invalidate(token);
        if (replays.includes('token')) {
          throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `pipeline ${pipeline.name}: Wallaroo refused a freshly obtained token`);
        }
        if (!this.canReplay(body)) {
          throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `pipeline ${pipeline.name}: Wallaroo refused the token and the body was too large to replay; the token is renewed, retry`, { headers: { 'retry-after': '0' } });
        }
        replays.push('token');
        token = await deps.tokens.current();
        continue;
      }
      if (response.statusCode === 404 && resolved.discovered && !replays.includes('discovery') && this.canReplay(body)) {
        const text = await readLimited(response.body, ERROR_BODY_LIMIT).catch(() => Buffer.alloc(0));
        deps.directory.invalidate(pipeline.name, resolved.url);
        const next = await deps.directory.resolve(pipeline);
        if (next.url.href !== resolved.url.href) {
          replays.push('discovery');
          resolved = next;
          continue;
        }
        return { statusCode: response.statusCode, headers: { ...response.headers, 'content-length': String(text.length) }, body: text };
      }
      return response;
    }
  }

  /** Connect-phase failures (nothing sent) are retried with jittered backoff, while the retry budget allows. */
  private async dispatchWithRetries(
    pipeline: PipelineConfig,
    resolved: ResolvedPipeline,
    query: string,
    token: string,
    payload: Buffer | Readable,
    plan: ConversionPlan,
    request: FastifyRequest,
    signal: AbortSignal,
    stats: RequestStats,
    body: UpstreamBody,
    retryBudget: RetryBudget,
  ): Promise<Dispatcher.ResponseData> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.dispatch(pipeline, resolved, query, token, payload, plan, request, signal, stats, body);
      } catch (error) {
        const cause = error instanceof GatewayError ? error.cause : error;
        const retryable = Buffer.isBuffer(payload) && failedBeforeSending(cause) && !signal.aborted;
        if (!retryable || attempt >= pipeline.maxRetries || !retryBudget.tryRetry()) throw error;
        stats.retries = attempt + 1;
        const delay = 50 * 2 ** attempt;
        await sleep(delay / 2 + Math.random() * delay);
      }
    }
  }

  private canReplay(body: UpstreamBody): boolean {
    return Buffer.isBuffer(body) || body.replay() !== null;
  }

  private async dispatch(
    pipeline: PipelineConfig,
    resolved: ResolvedPipeline,
    query: string,
    token: string,
    payload: Buffer | Readable,
    plan: ConversionPlan,
    request: FastifyRequest,
    signal: AbortSignal,
    stats: RequestStats,
    body: UpstreamBody,
  ): Promise<Dispatcher.ResponseData> {
    const { url } = resolved;
    const search = url.search ? (query ? `${url.search}&${query}` : url.search) : query ? `?${query}` : '';
    const headers = upstreamRequestHeaders(request.headers, {
      token,
      requestId: request.id,
      contentType: MEDIA_TYPES[plan.upstreamRequest],
      accept: MEDIA_TYPES[plan.upstreamResponse],
      contentLength: Buffer.isBuffer(payload) ? payload.length : declaredLength(request.headers['content-length']) ?? undefined,
    });
    const started = performance.now();
    // undici's own timers tick at about one second; this one is exact, and covers the wait for the answer's
    // headers only (a streamed answer is then guarded by bodyTimeout, idle time between chunks).
    const attempt = new AbortController();
    const timeout = new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${pipeline.name}: timed out waiting for Wallaroo (limit ${pipeline.timeoutMs} ms)`);
    const timer = setTimeout(() => attempt.abort(timeout), pipeline.timeoutMs);
    const onCallerGone = () => attempt.abort(signal.reason);
    signal.addEventListener('abort', onCallerGone, { once: true });
    try {
      const response = await this.deps.dispatcherFor(pipeline).request({
        origin: url.origin,
        path: `${url.pathname}${search}`,
        method: 'POST',
        headers,
        body: payload,
        signal: attempt.signal,
        headersTimeout: pipeline.timeoutMs + 1_000,
        bodyTimeout: pipeline.timeoutMs,
      });
      const ms = performance.now() - started;
      stats.upstreamMs = (stats.upstreamMs ?? 0) + ms;
      stats.upstreamStatus = response.statusCode;
      this.deps.metrics.upstreamDuration.observe({ pipeline: pipeline.name, status: String(response.statusCode) }, ms / 1000);
      return response;
    } catch (error) {
      if (body instanceof MeteredBody && body.failure) throw body.failure;
      if (signal.aborted) throw new GatewayError('GW_BAD_REQUEST', 'the caller closed the connection', { cause: error });
      const failure = attempt.signal.reason === timeout ? timeout : upstreamFailure(error, pipeline.name, pipeline.timeoutMs);
      this.deps.metrics.upstreamDuration.observe({ pipeline: pipeline.name, status: failure.code }, (performance.now() - started) / 1000);
      throw failure;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onCallerGone);
    }
  }
}
