import { PassThrough, type Readable } from 'node:stream';
import { createParser } from 'eventsource-parser';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConversionLimits } from '../config/types.ts';
import { parseJson } from '../convert/json-guard.ts';
import { GatewayError } from '../errors.ts';
import { inviteBody } from '../http/expect-continue.ts';
import { declaredRequestLength, firstHeader, mediaType } from '../http/headers.ts';
import type { AdmissionGate } from '../limits/admission.ts';
import type { PipelineConfig } from '../config/types.ts';
import { boundAnswerBody, guardStalledCaller, relayAnswer } from './answer.ts';
import { assertDeclaredBody, readBody } from './body.ts';
import type { RequestContext } from './context.ts';
import { callWithSlot } from './inference.ts';
import { callerResponseHeaders } from './headers.ts';
import { EVENT_TOO_LARGE, SseEventBound, withNulReplaced } from './sse-guard.ts';
import type { UpstreamClient } from './upstream.ts';
import { upstreamFailure } from './upstream-errors.ts';

// OpenAI-compatible passthrough: `<inference URL>/openai/v1/{completions,chat/completions}` with the same
// lifecycle, admission, token policy and discovery as inference. With `"stream": true` Wallaroo answers
// Server-Sent Events, relayed event by event as they arrive: a keepalive comment goes out first so load balancers
// see bytes before the first token, `X-Accel-Buffering: no` stops proxies from buffering, the idle timeout
// applies between chunks and a total bound to the whole stream (keep-alive comments reset the idle one), and
// a failure mid-stream ends the stream with a coded `event: error`. Only whole events are passed on (at most
// `openAiEventLimit` bytes of an unfinished one are held), so a cut stream never delivers half an event and the
// gateway's keepalive never lands inside one; NUL bytes become U+FFFD (sse-guard.ts). Usage is read with a real SSE
// parser (CRLF, multi-line data) and only sane numbers reach the metrics.

export type OpenAiEndpoint = 'completions' | 'chat/completions';

const KEEPALIVE = ': keepalive\n\n';
const KEEPALIVE_EVERY_MS = 15_000;
/** Usage is looked for in this much of an answer; SSE events beyond the parser's buffer are skipped. */
const USAGE_SCAN_LIMIT = 1024 * 1024;
/** Token counts above this are not believed (a hostile or broken upstream), so a counter cannot be poisoned. */
const MAX_TOKENS_PER_ANSWER = 100_000_000;

export interface Usage {
  promptTokens: number | null;
  completionTokens: number | null;
}

function tokenCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKENS_PER_ANSWER ? value : null;
}

/** The usage in one parsed OpenAI object, when it carries believable counts. */
export function usageOf(parsed: unknown): Usage | null {
  if (parsed === null || typeof parsed !== 'object') return null;
  const usage = (parsed as { usage?: unknown }).usage;
  if (usage === null || typeof usage !== 'object') return null;
  const promptTokens = tokenCount((usage as { prompt_tokens?: unknown }).prompt_tokens);
  const completionTokens = tokenCount((usage as { completion_tokens?: unknown }).completion_tokens);
  return promptTokens === null && completionTokens === null ? null : { promptTokens, completionTokens };
}

function parseUsage(text: string): Usage | null {
  if (!text.includes('"usage"')) return null;
  try {
    return usageOf(JSON.parse(text));
  } catch {
    return null; // not JSON ([DONE], or not an OpenAI object): nothing to count
  }
}

export interface OpenAiDeps {
  upstream: UpstreamClient;
  gateFor(pipeline: PipelineConfig): AdmissionGate;
  bodyLimit: number;
  /** Budgets on parsing the body (conversion.* in the config). */
  conversion: ConversionLimits;
  bodyIdleTimeoutMs: number;
  /** A streamed answer is ended with an error event this long after its headers (server.openAiStreamTimeoutMs). */
  streamTimeoutMs: number;
  /** Largest SSE event relayed (server.openAiEventLimit). */
  eventLimit: number;
  onUsage(pipeline: string, usage: Usage): void;
  onFirstByte(pipeline: string, seconds: number): void;
}

export class OpenAiRoute {
  constructor(private readonly deps: OpenAiDeps) {}

  async handle(ctx: RequestContext, endpoint: OpenAiEndpoint, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { deps } = this;
    const { pipeline, stats } = ctx;
    if (mediaType(request.headers['content-type']) !== 'application/json') {
      throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', `OpenAI-compatible routes take application/json, not ${JSON.stringify((request.headers['content-type'] ?? '(missing)').slice(0, 100))}`);
    }
    const declared = declaredRequestLength(request.headers);
    assertDeclaredBody(declared, deps.bodyLimit);
    const gate = deps.gateFor(pipeline);
    ctx.reservation = gate.beforeBody();
    inviteBody(request.raw, reply.raw); // only now: a declared length over the limit was refused without a 100
    const body = await readBody(request.raw, { limit: deps.bodyLimit, idleTimeoutMs: deps.bodyIdleTimeoutMs, bounds: ctx, reservation: ctx.reservation }, declared);
    stats.bytesIn = body.length;
    const parsed = parseJson(body, deps.conversion); // depth, containers and keys checked before JSON.parse
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GatewayError('GW_INVALID_JSON', 'an OpenAI request body is a JSON object');
    const streaming = (parsed as { stream?: unknown }).stream === true;

    const target = await deps.upstream.prepare(ctx);
    const { response } = await callWithSlot(ctx, reply, gate, (slot) =>
      deps.upstream.send(ctx, target, {
        pathSuffix: `/openai/v1/${endpoint}`,
        query: '',
        contentType: 'application/json',
        accept: streaming ? 'text/event-stream' : 'application/json',
        body,
        callerHeaders: request.headers,
        requestId: request.id,
      }, slot.retryBudget),
    );
    const contentType = firstHeader(response.headers['content-type']) ?? '';
    if (response.statusCode < 300 && contentType.startsWith('text/event-stream') && !Buffer.isBuffer(response.body)) {
      const headers = callerResponseHeaders(response.headers, { requestId: request.id, upstreamStatus: response.statusCode });
      return this.relayEvents(ctx, response.body, reply, headers, response.statusCode);
    }
    boundAnswerBody(ctx, response.body, pipeline.timeoutMs, reply.raw);
    return relayAnswer(ctx, reply, request.id, response, {
      bodyTimeoutMs: deps.bodyIdleTimeoutMs,
      onWholeAnswer: (answer) => this.recordUsage(pipeline.name, parseUsage(answer.toString('utf8'))),
      onStreamedAnswer: (stream) => this.watchJsonUsage(pipeline.name, stream as Readable),
    });
  }

  private recordUsage(pipeline: string, usage: Usage | null): void {
    if (!usage) return;
    try {
      this.deps.onUsage(pipeline, usage);
    } catch {
      // A metrics callback must never take the process down from inside a stream event.
    }
  }

  private relayEvents(ctx: RequestContext, upstream: Readable, reply: FastifyReply, headers: Record<string, unknown>, status: number): FastifyReply {
    const { pipeline, stats } = ctx;
    const out = new PassThrough();
    let lastWrite = Date.now();
    let firstByte = true;
    let bytes = 0;
    let scanned = 0;
    let usage: Usage | null = null;
    const decoder = new TextDecoder('utf-8');
    const parser = createParser({
      maxBufferSize: USAGE_SCAN_LIMIT,
      onEvent: (event) => {
        usage = parseUsage(event.data) ?? usage;
      },
    });
    const write = (text: string | Buffer) => {
      lastWrite = Date.now();
      return out.write(text);
    };
    // Before the first token: bytes on the wire at once, so no load balancer cuts a slow first token.
    write(KEEPALIVE);
    const keepalive = setInterval(() => {
      if (Date.now() - lastWrite >= KEEPALIVE_EVERY_MS) write(KEEPALIVE);
    }, KEEPALIVE_EVERY_MS);
    keepalive.unref();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(keepalive);
      clearTimeout(streamLimit);
      stats.bytesOut = bytes;
      this.recordUsage(pipeline.name, usage);
      out.end();
    };
    /** Ends the stream with a coded error event; Wallaroo's answer is dropped (with `cause`: held against it). */
    const failStream = (reason: GatewayError, cause?: GatewayError) => {
      if (finished) return;
      stats.error = { code: reason.code, message: reason.message };
      // Only whole events were passed on, so the error is an event of its own (an unfinished one is dropped).
      write(`event: error\ndata: ${JSON.stringify(reason.toBody())}\n\n`);
      finish();
      upstream.destroy(cause);
    };
    const { streamTimeoutMs } = this.deps;
    const streamLimit = setTimeout(() => {
      failStream(new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${pipeline.name}: the stream was still open after ${streamTimeoutMs} ms (server.openAiStreamTimeoutMs)`));
    }, streamTimeoutMs);
    streamLimit.unref();
    const events = new SseEventBound(this.deps.eventLimit);
    let unfinished: Buffer[] = [];
    /** The held start of an event plus `chunk` up to `end`: whole events only. */
    const wholeEvents = (chunk: Buffer, end: number): Buffer =>
      unfinished.length === 0 ? chunk.subarray(0, end) : Buffer.concat([...unfinished, chunk.subarray(0, end)]);
    upstream.on('data', (received: Buffer) => {
      if (finished) return;
      if (firstByte) {
        firstByte = false;
        stats.firstByteMs = reply.elapsedTime;
        try {
          this.deps.onFirstByte(pipeline.name, reply.elapsedTime / 1000);
        } catch {
          // never fatal: see recordUsage
        }
      }
      const chunk = withNulReplaced(received);
      const end = events.feed(chunk);
      if (end === EVENT_TOO_LARGE) {
        // The events that ended before the oversized one are whole: they go out ahead of the error event.
        if (events.endBeforeOverflow >= 0) {
          const whole = wholeEvents(chunk, events.endBeforeOverflow);
          bytes += whole.length;
          write(whole);
        }
        const reason = new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `pipeline ${pipeline.name}: an event in Wallaroo's stream exceeds ${events.limit} bytes (server.openAiEventLimit)`);
        failStream(reason, reason);
        return;
      }
      if (end < 0) {
        unfinished.push(chunk);
        return;
      }
      const whole = wholeEvents(chunk, end);
      unfinished = end < chunk.length ? [chunk.subarray(end)] : [];
      bytes += whole.length;
      if (scanned < USAGE_SCAN_LIMIT) {
        scanned += whole.length;
        try {
          parser.feed(decoder.decode(whole, { stream: true }));
        } catch {
          scanned = USAGE_SCAN_LIMIT; // a stream the parser cannot follow: stop looking, keep relaying
        }
      }
      if (!write(whole)) {
        upstream.pause(); // the caller reads slowly: hold Wallaroo back rather than buffer
        out.once('drain', () => upstream.resume());
      }
    });
    upstream.once('end', () => {
      // What follows the last blank line is passed on as it came (a client drops an unfinished event anyway).
      for (const rest of unfinished) bytes += rest.length;
      if (unfinished.length > 0 && !finished) write(Buffer.concat(unfinished));
      finish();
    });
    upstream.once('error', (error: Error) => {
      // Headers are long gone: end the stream with a coded error event instead of a silent cut.
      failStream((error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
        ? new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${pipeline.name}: nothing from Wallaroo for ${pipeline.timeoutMs} ms`)
        : upstreamFailure(error, pipeline.name, pipeline.timeoutMs));
    });
    // The caller hung up: stop reading from Wallaroo (which closes that connection too).
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) upstream.destroy();
    });
    guardStalledCaller(ctx, reply, Math.max(this.deps.bodyIdleTimeoutMs, 2 * KEEPALIVE_EVERY_MS), upstream);
    return reply
      .code(status)
      .headers({ ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
      .send(out);
  }

  private watchJsonUsage(pipeline: string, body: Readable): void {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= USAGE_SCAN_LIMIT) chunks.push(chunk);
      else chunks.length = 0;
    });
    body.once('end', () => {
      if (size <= USAGE_SCAN_LIMIT) this.recordUsage(pipeline, parseUsage(Buffer.concat(chunks).toString('utf8')));
    });
  }
}
