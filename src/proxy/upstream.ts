import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { type TokenManager, withToken } from '../auth/index.ts';
import type { PipelineConfig } from '../config/types.ts';
import type { PipelineDirectory, ResolvedPipeline } from '../discovery/directory.ts';
import { GatewayError } from '../errors.ts';
import { fullJitterDelay } from '../http/backoff.ts';
import { endedOutright, isCallerGone, remainingMs, sleepWithin } from '../http/deadline.ts';
import type { BufferReservation } from '../limits/buffer-budget.ts';
import { failedBeforeSending, type RetryBudget } from '../limits/retry-budget.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { bodyTooSlow, MeteredBody } from './body.ts';
import type { CallContext } from './context.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { upstreamFailure } from './upstream-errors.ts';

// One call to Wallaroo for a pipeline: token and URL, send, and the recoveries that cannot duplicate work —
// a 401 replays under the token policy of auth/replay.ts; a 404 from a discovered URL (the pipeline was
// recreated) rediscovers once and replays; a connect failure (nothing was sent) or a 503 (the pipeline is
// activating) is retried with backoff within the retry budget and the request's deadline. Never a loop.

export type UpstreamBody = Buffer | MeteredBody;

/** Wallaroo's answer; the body is already a Buffer when the gateway had to read it (a 404 it looked into). */
export interface UpstreamAnswer {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'] | Buffer;
}

/** What to send: appended to the pipeline's inference URL, with these media types. */
export interface UpstreamCall {
  pathSuffix: string;
  query: string;
  contentType: string;
  accept: string;
  body: UpstreamBody;
  /** The caller's headers, of which only the allow-listed ones are passed on (proxy/headers.ts). */
  callerHeaders: IncomingHttpHeaders;
  requestId: string;
}

export interface UpstreamDeps {
  tokens: TokenManager;
  directory: PipelineDirectory;
  dispatcherFor(pipeline: PipelineConfig): Dispatcher;
  metrics: GatewayMetrics;
}

const ERROR_BODY_LIMIT = 64 * 1024;
const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 1_000;
/** A 503 (pipeline activating) is retried only when Wallaroo asks for no longer a wait than this. */
const MAX_503_WAIT_MS = 2_000;

/** Charges an answer read whole as it arrives: called with the bytes read so far; throws to stop the read. */
export type ChargeAnswer = (total: number) => void;

/**
 * The charge for an answer read whole under `reservation`, on top of what the request holds when the read starts
 * (its body, a replay copy): 502 GW_UPSTREAM_BAD_RESPONSE when the answer could never fit server.bufferBudget with
 * them (Wallaroo's answer is the problem; retrying cannot help), the reservation's 503 GW_OVERLOADED + Retry-After
 * when it does not fit now (others hold the budget). Either way the read stops there, not after the whole answer.
 */
export function chargeAnswerTo(reservation: BufferReservation, pipeline: string): ChargeAnswer {
  const held = reservation.bytes;
  return (total) => {
    if (held + total > reservation.limit) {
      const besides = held > 0 ? ` with the request's ${held} bytes` : '';
      throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `pipeline ${pipeline}: Wallaroo's answer (at least ${total} bytes) does not fit server.bufferBudget (${reservation.limit} bytes)${besides}`);
    }
    reservation.growTo(held + total);
  };
}

/**
 * Reads an answer body whole, failing with GW_UPSTREAM_BAD_RESPONSE beyond `limit` bytes; `charge` is told the
 * bytes read so far before each chunk is kept, and a charge that throws ends the read with its error (the body is
 * destroyed at once, so an answer that does not fit is never read to its end). Event-driven, one promise per
 * answer: nearly every answer is read here, and an async iterator costs promises per chunk.
 */
export function readLimited(body: UpstreamAnswer['body'], limit: number, charge?: ChargeAnswer): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return Promise.resolve(body);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (error: unknown) => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', finish);
      body.off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        body.destroy();
        return finish(new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `Wallaroo's answer exceeds ${limit} bytes`));
      }
      if (charge) {
        try {
          charge(total);
        } catch (error) {
          body.destroy();
          return finish(error);
        }
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(null);
    // Destroyed without an error (and without its end): what an async iterator reports as a premature close.
    const onClose = () => finish(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    if (body.readableEnded) return finish(null);
    if (body.destroyed) return onClose();
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', finish);
    body.once('close', onClose);
  });
}

async function discard(body: UpstreamAnswer['body']): Promise<void> {
  if (!Buffer.isBuffer(body)) await body.dump().catch(() => undefined);
}

function canReplay(body: UpstreamBody): boolean {
  return Buffer.isBuffer(body) || body.canReplay();
}

/** The bytes to send on attempt `n` (0-based): a streamed body flows once; later attempts use its kept copy. */
function payloadFor(body: UpstreamBody, attempt: number): Buffer | Readable {
  if (Buffer.isBuffer(body)) return body;
  if (attempt === 0) return Readable.from(body.stream(), { objectMode: false });
  const copy = body.replay();
  if (!copy) throw new GatewayError('GW_INTERNAL', 'a streamed body was sent again without a kept copy');
  return copy;
}

/** Retry-After in seconds from a 503, as milliseconds; null when absent or not a small number. */
function retryAfterMs(headers: Dispatcher.ResponseData['headers']): number | null {
  const value = headers['retry-after'];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,4}$/.test(text)) return null;
  return Number(text) * 1000;
}

export class UpstreamClient {
  constructor(private readonly deps: UpstreamDeps) {}

  /**
   * Token and URL before the call takes a concurrency slot, so a slow identity provider or MLOps API holds no
   * slot; both are usually answered from memory.
   */
  async prepare(ctx: CallContext): Promise<ResolvedPipeline> {
    const known = this.deps.directory.known(ctx.pipeline);
    if (known && this.deps.tokens.peek()) return known;
    // The token first: discovery needs one too, and a caller that runs out of time waiting for the identity
    // provider should hear about the token, not about discovery.
    if (!this.deps.tokens.peek()) await ctx.trace.phase('token', () => this.deps.tokens.get(ctx));
    return known ?? ctx.trace.phase('discovery', () => this.deps.directory.resolve(ctx.pipeline, ctx));
  }

  /** Sends to `target` (from `prepare`), with the replays and retries above. */
  async send(ctx: CallContext, target: ResolvedPipeline, call: UpstreamCall, retryBudget: RetryBudget): Promise<UpstreamAnswer> {
    const { pipeline, stats } = ctx;
    const { directory } = this.deps;
    let resolved = target;
    let attempts = 0;
    for (let rediscovered = false; ; ) {
      const answer: UpstreamAnswer = await withToken(this.deps.tokens, ctx, {
        subject: `pipeline ${pipeline.name}`,
        send: (token, replay) => {
          if (replay > 0) {
            stats.replays ??= [];
            stats.replays.push('token');
          }
          return this.sendWithRetries(ctx, call, resolved, token, retryBudget, () => attempts++);
        },
        refused: (response) => response.statusCode === 401,
        discard: (response) => discard(response.body),
        canReplay: () => canReplay(call.body),
      });
      if (answer.statusCode === 404 && resolved.discovered && !rediscovered && canReplay(call.body)) {
        // Charged like any answer read whole; one that cannot be charged is dropped (nothing of it is passed on).
        const charge = ctx.reservation ? chargeAnswerTo(ctx.reservation, pipeline.name) : undefined;
        const text = await readLimited(answer.body, ERROR_BODY_LIMIT, charge).catch(() => Buffer.alloc(0));
        directory.invalidate(pipeline.name, resolved.url);
        const next = await directory.resolve(pipeline, ctx);
        if (next.url.href !== resolved.url.href) {
          stats.replays ??= [];
          stats.replays.push('discovery');
          resolved = next;
          rediscovered = true;
          continue;
        }
        return { statusCode: answer.statusCode, headers: { ...answer.headers, 'content-length': String(text.length) }, body: text };
      }
      return answer;
    }
  }

  /** Connect failures (nothing sent) and 503s (activating) are retried with backoff, within budget and deadline. */
  private async sendWithRetries(
    ctx: CallContext,
    call: UpstreamCall,
    resolved: ResolvedPipeline,
    token: string,
    retryBudget: RetryBudget,
    nextAttempt: () => number,
  ): Promise<Dispatcher.ResponseData> {
    const { pipeline, stats } = ctx;
    for (let retry = 0; ; retry++) {
      const payload = payloadFor(call.body, nextAttempt());
      let delay: number;
      try {
        const response = await this.dispatch(ctx, call, resolved, token, payload);
        if (response.statusCode !== 503 || !canReplay(call.body) || retry >= pipeline.maxRetries) return response;
        // Wallaroo's own Retry-After is honoured: sooner than it asks is never sent, and a long wait (or one past the
        // deadline) goes to the caller with Wallaroo's 503 and its Retry-After.
        delay = retryAfterMs(response.headers) ?? fullJitterDelay(retry, RETRY_BASE_MS * 4, RETRY_CAP_MS);
        if (delay > MAX_503_WAIT_MS || delay + 50 >= remainingMs(ctx) || !retryBudget.tryRetry()) return response;
        await discard(response.body);
      } catch (error) {
        const cause = error instanceof GatewayError ? error.cause : error;
        const retryable = Buffer.isBuffer(payload) && failedBeforeSending(cause) && !ctx.signal.aborted;
        if (!retryable || retry >= pipeline.maxRetries || !retryBudget.tryRetry()) throw error;
        delay = fullJitterDelay(retry, RETRY_BASE_MS, RETRY_CAP_MS);
      }
      stats.retries = retry + 1;
      await sleepWithin(delay, ctx);
    }
  }

  private async dispatch(ctx: CallContext, call: UpstreamCall, resolved: ResolvedPipeline, token: string, payload: Buffer | Readable): Promise<Dispatcher.ResponseData> {
    const { pipeline, stats } = ctx;
    // Ended before anything was sent (the caller left, or the deadline went on conversion or waiting): not Wallaroo's.
    if (ctx.signal.aborted || remainingMs(ctx) <= 0) throw notSent(ctx);
    const { url } = resolved;
    const search = url.search ? (call.query ? `${url.search}&${call.query}` : url.search) : call.query ? `?${call.query}` : '';
    const headers = upstreamRequestHeaders(call.callerHeaders, {
      token,
      requestId: call.requestId,
      contentType: call.contentType,
      accept: call.accept,
      contentLength: Buffer.isBuffer(payload) ? payload.length : undefined,
    });
    const span = ctx.trace.startUpstream(url);
    span.inject(headers);
    const started = performance.now();
    try {
      const response = await this.deps.dispatcherFor(pipeline).request({
        origin: url.origin,
        path: `${url.pathname}${call.pathSuffix}${search}`,
        method: 'POST',
        headers,
        body: payload,
        signal: ctx.signal,
        // The request's deadline (ctx.signal) is exact; undici's own timers tick at about a second.
        headersTimeout: remainingMs(ctx) + 1_000,
        bodyTimeout: pipeline.timeoutMs,
      });
      const ms = performance.now() - started;
      stats.upstreamMs = (stats.upstreamMs ?? 0) + ms;
      stats.upstreamStatus = response.statusCode;
      this.deps.metrics.upstreamDuration.observe({ pipeline: pipeline.name, status: String(response.statusCode) }, ms / 1000);
      span.set('http.response.status_code', response.statusCode).end();
      return response;
    } catch (error) {
      span.end(error);
      const failure = this.blame(ctx, call, error);
      if (!isCallerGone(failure) && failure.code !== 'GW_REQUEST_TIMEOUT') {
        this.deps.metrics.upstreamDuration.observe({ pipeline: pipeline.name, status: failure.code }, (performance.now() - started) / 1000);
      }
      throw failure;
    }
  }

  /** Whose failure a failed dispatch is: the caller's (its body, its leaving) or Wallaroo's. */
  private blame(ctx: CallContext, call: UpstreamCall, error: unknown): GatewayError {
    const { body } = call;
    if (body instanceof MeteredBody && body.failure) return body.failure;
    if (ctx.signal.aborted) {
      const reason: unknown = ctx.signal.reason;
      if (endedOutright(reason)) return reason;
      // The deadline passed: a body still arriving is the caller's slowness, otherwise Wallaroo did not answer.
      if (body instanceof MeteredBody && !body.complete) return bodyTooSlow();
      return new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${ctx.pipeline.name}: timed out waiting for Wallaroo (limit ${ctx.pipeline.timeoutMs} ms)`, { cause: error });
    }
    return upstreamFailure(error, ctx.pipeline.name, ctx.pipeline.timeoutMs);
  }
}

/** Why a request whose signal ended before it was sent to Wallaroo fails: the caller left (or the gateway shut
 * down), or its deadline passed in the gateway. */
function notSent(ctx: CallContext): GatewayError {
  const reason: unknown = ctx.signal.reason;
  if (endedOutright(reason)) return reason;
  return new GatewayError('GW_DEADLINE_EXCEEDED', `pipeline ${ctx.pipeline.name}: the ${ctx.pipeline.timeoutMs} ms timeout passed before the request was sent to Wallaroo`);
}
