import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { TokenManager } from '../auth/token-manager.ts';
import type { PipelineConfig } from '../config/types.ts';
import type { PipelineDirectory, ResolvedPipeline } from '../discovery/directory.ts';
import { GatewayError } from '../errors.ts';
import { failedBeforeSending, type RetryBudget } from '../limits/retry-budget.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { declaredLength } from '../http/headers.ts';
import { MeteredBody } from './body.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { callerClosed, upstreamFailure } from './upstream-errors.ts';

/**
 * One call to Wallaroo for a pipeline: resolve token and URL, send, and on a 401 (token refused) or a 404 from
 * a discovered URL (pipeline redeployed) refresh that one thing and replay. Never a loop: a discovery replay
 * happens once, a token replay at most twice and the second only with a token fetched after the refusal. Connect-phase failures (nothing sent) are retried within the retry budget.
 */
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
  contentType: string;
  accept: string;
}

/** Per-request facts for the one log line and the metrics. */
export interface RequestStats {
  route: string;
  pipeline?: string;
  upstreamStatus?: number;
  upstreamMs?: number;
  conversionMs?: number;
  /** Engine time Wallaroo reported in metadata.elapsed. */
  engineMs?: number;
  /** Time to the first byte of a streamed (SSE) answer. */
  firstByteMs?: number;
  bytesIn?: number;
  bytesOut?: number;
  replays?: string[];
  retries?: number;
}

export interface UpstreamDeps {
  tokens: TokenManager;
  directory: PipelineDirectory;
  dispatcherFor(pipeline: PipelineConfig): Dispatcher;
  metrics: GatewayMetrics;
}

const ERROR_BODY_LIMIT = 64 * 1024;

export async function readLimited(body: UpstreamAnswer['body'], limit: number): Promise<Buffer> {
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

function canReplay(body: UpstreamBody): boolean {
  return Buffer.isBuffer(body) || body.replay() !== null;
}

export class UpstreamClient {
  constructor(private readonly deps: UpstreamDeps) {}

  async send(
    pipeline: PipelineConfig,
    request: FastifyRequest,
    body: UpstreamBody,
    call: UpstreamCall,
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
    let tokenIsFresh = false;
    for (;;) {
      let payload: Buffer | Readable;
      if (Buffer.isBuffer(body)) payload = body;
      else if (firstAttempt) payload = Readable.from(body.stream(), { objectMode: false });
      else payload = body.replay() as Buffer;
      firstAttempt = false;
      const attempt: Attempt = { pipeline, resolved, query, token, payload, call, request, signal, stats, body };
      const response = await this.dispatchWithRetries(attempt, retryBudget);

      if (response.statusCode === 401) {
        await response.body.dump().catch(() => undefined);
        if (tokenIsFresh) {
          deps.tokens.invalidate(token);
          throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `pipeline ${pipeline.name}: Wallaroo refused a freshly obtained token`);
        }
        if (!canReplay(body)) {
          deps.tokens.invalidate(token);
          throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `pipeline ${pipeline.name}: Wallaroo refused the token and the body was too large to replay; the token is renewed, retry`, { headers: { 'retry-after': '0' } });
        }
        // One replay with the token that replaced the refused one; a second only if that token's fetch began
        // before the refusal (it may be revoked too), with one fetched after it. Never more.
        const replacement = await deps.tokens.replacementFor(token, replays.includes('token'));
        replays.push('token');
        token = replacement.token;
        tokenIsFresh = replacement.fresh;
        continue;
      }
      if (response.statusCode === 404 && resolved.discovered && !replays.includes('discovery') && canReplay(body)) {
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
  private async dispatchWithRetries(attempt: Attempt, retryBudget: RetryBudget): Promise<Dispatcher.ResponseData> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.dispatch(attempt);
      } catch (error) {
        const cause = error instanceof GatewayError ? error.cause : error;
        const retryable = Buffer.isBuffer(attempt.payload) && failedBeforeSending(cause) && !attempt.signal.aborted;
        if (!retryable || retry >= attempt.pipeline.maxRetries || !retryBudget.tryRetry()) throw error;
        attempt.stats.retries = retry + 1;
        const delay = 50 * 2 ** retry;
        await sleep(delay / 2 + Math.random() * delay);
      }
    }
  }

  private async dispatch({ pipeline, resolved, query, token, payload, call, request, signal, stats, body }: Attempt): Promise<Dispatcher.ResponseData> {
    const { url } = resolved;
    const search = url.search ? (query ? `${url.search}&${query}` : url.search) : query ? `?${query}` : '';
    const headers = upstreamRequestHeaders(request.headers, {
      token,
      requestId: request.id,
      contentType: call.contentType,
      accept: call.accept,
      contentLength: Buffer.isBuffer(payload) ? payload.length : declaredLength(request.headers['content-length']) ?? undefined,
    });
    const span = request.trace.startUpstream(url);
    span.inject(headers);
    const started = performance.now();
    // undici's own timers tick at about one second; this one is exact, and covers the wait for the answer's
    // headers only (a streamed answer is then guarded by bodyTimeout, idle time between chunks).
    const attempt = new AttemptAbort();
    let timeout: GatewayError | null = null; // built only when it fires: an Error captures a stack, costly per request
    const timer = setTimeout(() => {
      timeout = new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${pipeline.name}: timed out waiting for Wallaroo (limit ${pipeline.timeoutMs} ms)`);
      attempt.abort(timeout);
    }, pipeline.timeoutMs);
    const onCallerGone = () => attempt.abort(signal.reason);
    signal.addEventListener('abort', onCallerGone, { once: true });
    try {
      const response = await this.deps.dispatcherFor(pipeline).request({
        origin: url.origin,
        path: `${url.pathname}${call.pathSuffix}${search}`,
        method: 'POST',
        headers,
        body: payload,
        signal: attempt,
        headersTimeout: pipeline.timeoutMs + 1_000,
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
      if (body instanceof MeteredBody && body.failure) throw body.failure;
      if (signal.aborted) throw callerClosed(error);
      const failure = timeout !== null && attempt.reason === timeout ? (timeout as GatewayError) : upstreamFailure(error, pipeline.name, pipeline.timeoutMs);
      this.deps.metrics.upstreamDuration.observe({ pipeline: pipeline.name, status: failure.code }, (performance.now() - started) / 1000);
      throw failure;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onCallerGone);
    }
  }
}

/**
 * Aborts one upstream attempt. undici accepts an EventEmitter with `aborted` and `reason` as its signal; one is
 * much cheaper to make per attempt than an AbortController, whose signal is a full EventTarget.
 */
class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

interface Attempt {
  pipeline: PipelineConfig;
  resolved: ResolvedPipeline;
  query: string;
  token: string;
  payload: Buffer | Readable;
  call: UpstreamCall;
  request: FastifyRequest;
  signal: AbortSignal;
  stats: RequestStats;
  body: UpstreamBody;
}
