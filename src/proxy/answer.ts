import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { GatewayError } from '../errors.ts';
import { declaredLength, firstHeader } from '../http/headers.ts';
import type { CallContext, RequestContext } from './context.ts';
import { callerResponseHeaders } from './headers.ts';
import { chargeAnswerTo, readLimited, type UpstreamAnswer } from './upstream.ts';
import { upstreamFailure } from './upstream-errors.ts';

// Sending Wallaroo's answer on to the caller. Small answers (declared up to 64 KiB) are read whole and sent in
// one write — far cheaper per request than piping (README, Benchmarks); larger ones stream, and a caller that
// stops reading is cut off after `bodyTimeoutMs` without progress, freeing its slot and Wallaroo's connection.
// Whatever the gateway holds is reserved from the buffer budget first (an answer read whole, chunk by chunk as it
// arrives). The whole answer body has a bound of its own (boundAnswerBody): an answer trickling a byte at a time
// never holds a request, its slot and its buffers forever.

/** Answers up to this size (declared by Content-Length) are read whole before they are sent on. */
export const SMALL_ANSWER_BYTES = 64 * 1024;
/** Error answers are read whole (to judge them, and so a cut one is a coded 502); larger ones are not errors. */
export const ERROR_ANSWER_LIMIT = 64 * 1024;

/** A status the gateway can pass on as a final answer (anything else from Wallaroo is a bad response). */
export function assertFinalStatus(ctx: CallContext, status: number): void {
  if (status < 200 || status > 599) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `pipeline ${ctx.pipeline.name}: Wallaroo answered with status ${status}`);
  }
}

/**
 * An answer the gateway reads (to convert it or split it among a batch) must be plain bytes: the gateway asks for
 * `Accept-Encoding: identity`, and an ingress that compresses anyway gets a coded 502 naming the encoding rather
 * than a conversion error about garbled bytes.
 */
export function assertIdentityEncoding(ctx: CallContext, headers: UpstreamAnswer['headers']): void {
  const encoding = firstHeader(headers['content-encoding']);
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `pipeline ${ctx.pipeline.name}: Wallaroo answered with Content-Encoding ${JSON.stringify(encoding.slice(0, 64))} though the gateway asked for identity`);
  }
}

/**
 * Reads an answer whole under `limit`, charged to the request's reservation on top of what it holds: a declared
 * length at once (before any byte is read), and every chunk as it arrives, so memory is never held before it is
 * reserved. Beyond `limit` or what server.bufferBudget could ever hold, a coded 502; beyond what the budget has
 * free now, 503 GW_OVERLOADED. A refused answer is destroyed at once: Wallaroo's connection is not read to its end.
 */
export async function readAnswer(ctx: CallContext, body: UpstreamAnswer['body'], limit: number, declared: number | null): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  try {
    const charge = ctx.reservation ? chargeAnswerTo(ctx.reservation, ctx.pipeline.name) : undefined;
    if (declared !== null && declared > limit) throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `Wallaroo's answer exceeds ${limit} bytes`);
    if (declared !== null) charge?.(declared);
    return await readLimited(body, limit, charge);
  } catch (error) {
    body.destroy();
    throw upstreamFailure(error, ctx.pipeline.name, ctx.pipeline.timeoutMs);
  }
}

/**
 * Wallaroo's answer body must be complete within `limitMs` of its headers (undici's bodyTimeout only bounds the gap
 * between chunks). Past it the body is destroyed: a read in progress fails (504 when nothing was sent yet), a relay
 * already started is cut (the caller sees a truncated answer). Whose failure it is depends on who set the pace:
 * when the relay is waiting for the caller to read (`caller` is not draining, or bytes from Wallaroo sit unread),
 * it is the caller's GW_CALLER_TOO_SLOW, judged neutral; otherwise Wallaroo's GW_UPSTREAM_TIMEOUT, held against it.
 */
export function boundAnswerBody(ctx: CallContext, body: UpstreamAnswer['body'], limitMs: number, caller?: ServerResponse): void {
  if (Buffer.isBuffer(body) || body.readableEnded || body.destroyed) return;
  const timer = setTimeout(() => {
    const callerBehind = caller !== undefined && (caller.writableNeedDrain || body.readableFlowing === false || body.readableLength > 0);
    const error = callerBehind
      ? new GatewayError('GW_CALLER_TOO_SLOW', `the caller did not read its answer within ${limitMs} ms of Wallaroo's headers`)
      : new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${ctx.pipeline.name}: Wallaroo's answer was not complete within ${limitMs} ms of its headers`);
    ctx.stats.error = { code: error.code, message: error.message };
    body.destroy(error);
  }, limitMs);
  timer.unref();
  body.once('close', () => clearTimeout(timer));
}

export interface RelayOptions {
  bodyTimeoutMs: number;
  /** Called with the whole answer when it was read whole and is a success (engine time). */
  onWholeAnswer?: (answer: Buffer, contentType: string | undefined) => void;
  /** Called with the stream when a success streams through (engine time, usage). */
  onStreamedAnswer?: (body: NodeJS.ReadableStream, contentType: string | undefined) => void;
}

/** Sends Wallaroo's answer as it is (headers cleaned): whole when small or already read, else streamed. */
export async function relayAnswer(ctx: RequestContext, reply: FastifyReply, requestId: string, response: UpstreamAnswer, options: RelayOptions): Promise<FastifyReply> {
  const { statusCode } = response;
  const contentType = firstHeader(response.headers['content-type']);
  const length = declaredLength(firstHeader(response.headers['content-length']));
  const headers = callerResponseHeaders(response.headers, { requestId, upstreamStatus: statusCode });
  if (Buffer.isBuffer(response.body) || (length !== null && length <= SMALL_ANSWER_BYTES)) {
    // The declared length bounds what undici reads (more or fewer bytes fail the read).
    const answer = Buffer.isBuffer(response.body) ? response.body : await readAnswer(ctx, response.body, SMALL_ANSWER_BYTES, length);
    ctx.stats.bytesOut = answer.length;
    if (statusCode < 300) options.onWholeAnswer?.(answer, contentType);
    return reply.code(statusCode).headers(headers).send(answer);
  }
  const { body } = response;
  if (length !== null) {
    ctx.stats.bytesOut = length;
    headers['content-length'] = String(length);
  }
  if (statusCode < 300 && options.onStreamedAnswer) {
    // Watch the answer only once Fastify pipes it: a listener added earlier would start the flow too soon.
    reply.raw.once('pipe', (source) => {
      if (source === body) options.onStreamedAnswer!(body, contentType);
    });
  }
  guardStalledCaller(ctx, reply, options.bodyTimeoutMs, body);
  return reply.code(statusCode).headers(headers).send(body);
}

/**
 * A caller that stops reading a streamed answer: while bytes wait for it (the socket's buffers are full) and none
 * of them reach it for `idleMs`, the connection is cut. The caller did not leave: the cut is the gateway's, for its
 * slowness, so the request is logged and counted as 408 GW_CALLER_TOO_SLOW (never 499, never held against
 * Wallaroo), and Wallaroo's answer (`upstream`) is destroyed with it, freeing that connection at once; the slot goes
 * with it. Not Node's socket timeout: that one lets a write pending since before it started run a second period
 * (net.Socket's _onTimeout), so a stalled caller held everything for twice `idleMs`. While nothing waits for the
 * caller, the gateway is waiting for Wallaroo, whose pace is bounded elsewhere (boundAnswerBody, undici).
 */
export function guardStalledCaller(ctx: Pick<CallContext, 'stats'>, reply: FastifyReply, idleMs: number, upstream?: { destroy(error?: Error): unknown }): void {
  const response = reply.raw;
  const { socket } = response;
  if (socket === null) return;
  /** Bytes the kernel took from the gateway so far (written minus still queued): the caller's progress. */
  const delivered = () => socket.bytesWritten - socket.writableLength;
  let seen = delivered();
  let since = performance.now();
  const check = setInterval(() => {
    if (response.writableFinished || response.destroyed) {
      clearInterval(check);
      return;
    }
    const now = delivered();
    const waitingForCaller = socket.writableLength > 0 || response.writableNeedDrain;
    if (now !== seen || !waitingForCaller) {
      seen = now;
      since = performance.now();
      return;
    }
    if (performance.now() - since < idleMs) return;
    clearInterval(check);
    const error = new GatewayError('GW_CALLER_TOO_SLOW', `the caller took none of its answer for ${idleMs} ms`);
    ctx.stats.error = { code: error.code, message: error.message };
    upstream?.destroy(error);
    response.destroy();
  }, Math.max(1, Math.floor(idleMs / 4)));
  check.unref();
  response.once('close', () => clearInterval(check));
}
