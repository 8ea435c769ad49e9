import type { Readable } from 'node:stream';
import { GatewayError } from '../errors.ts';
import { type Bounds, callerGone, endedBecause } from '../http/deadline.ts';
import type { BufferReservation } from '../limits/buffer-budget.ts';

// Request bodies. Fastify's bodyLimit does not cover a body the proxy streams itself, so bytes are counted here
// and the read stops at the limit (413). Only what a 401/404 replay or a conversion needs is kept, and what is
// kept is reserved from the process-wide buffer budget before it is held. Every failure here is the caller's:
// too large, too slow (idle, or still arriving at the request's deadline), or gone.

/** The empty body every route refuses, declared (Content-Length: 0, or no framing at all) or read. */
export function emptyBody(): GatewayError {
  return new GatewayError('GW_EMPTY_BODY', 'the request body is empty');
}

/**
 * What the caller declared, judged before the body is read: over `limit` is 413; empty (Content-Length: 0, or no
 * length and no Transfer-Encoding, as RFC 9112 6.3 reads it) is GW_EMPTY_BODY, whatever the pipeline's format (a
 * passthrough pipeline would otherwise stream nothing to Wallaroo).
 */
export function assertDeclaredBody(declared: number | null, limit: number): void {
  if (declared !== null && declared > limit) {
    throw new GatewayError('GW_BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`);
  }
  if (declared === 0) throw emptyBody();
}

export interface BodyLimits {
  limit: number;
  idleTimeoutMs: number;
  bounds: Bounds;
  reservation: BufferReservation;
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('GW_BODY_TOO_LARGE', `the body exceeds the limit of ${limit} bytes`);
}

function idleTimeout(idleTimeoutMs: number): GatewayError {
  return new GatewayError('GW_REQUEST_TIMEOUT', `no body bytes for ${idleTimeoutMs} ms`);
}

/** The request's deadline passed while its body was still arriving: the caller's slowness, never Wallaroo's. */
export function bodyTooSlow(): GatewayError {
  return new GatewayError('GW_REQUEST_TIMEOUT', 'the body was still arriving when the pipeline timeout passed');
}

function unreadable(error: unknown): GatewayError {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') return callerGone(error);
  return new GatewayError('GW_BAD_REQUEST', `the request body could not be read (${code ?? 'aborted'})`, { cause: error });
}

/**
 * Reads a whole body, at most `limit` bytes, failing if no byte arrives for `idleTimeoutMs` (slow-loris) or the
 * bounds end. Event-driven with one refreshed timer: this runs for nearly every request. The request is never
 * destroyed here, so its socket lives to carry the error answer (sent with Connection: close).
 */
export function readBody(source: Readable, { limit, idleTimeoutMs, bounds, reservation }: BodyLimits, declared: number | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const { signal } = bounds;
    const finish = (error: GatewayError | null) => {
      clearTimeout(timer);
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('aborted', onAborted);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        source.pause();
        reject(error);
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      }
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) return finish(tooLarge(limit)); // the rest stays unread; the connection closes after the 413
      try {
        reservation.growTo(total);
      } catch (error) {
        return finish(error as GatewayError);
      }
      chunks.push(chunk);
      timer.refresh();
    };
    const onEnd = () => finish(null);
    const onError = (error: Error) => finish(unreadable(error));
    const onAborted = () => finish(callerGone());
    const onAbort = () => finish(endedBecause(bounds, bodyTooSlow));
    if (signal.aborted) return reject(endedBecause(bounds, bodyTooSlow));
    try {
      // Reserve what the caller declared at once: a burst of large uploads is refused before it is read.
      if (declared !== null) reservation.growTo(Math.min(declared, limit));
    } catch (error) {
      return reject(error as GatewayError);
    }
    const timer = setTimeout(() => finish(idleTimeout(idleTimeoutMs)), idleTimeoutMs);
    if (source.readableEnded) return finish(null);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('aborted', onAborted);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A streamed body: counted against the limit as it flows to Wallaroo, and kept while it stays within
 * `retainLimit` and the buffer budget allows, so a 401 or 404 can still be replayed for moderately large bodies.
 * Its own failures (too large, idle, caller gone) are remembered, so the upstream error they cause is blamed on
 * the caller.
 */
export class MeteredBody {
  bytes = 0;
  failure: GatewayError | null = null;
  complete = false;
  private chunks: Buffer[] | null = [];

  constructor(
    private readonly source: Readable,
    private readonly limits: BodyLimits,
    private readonly retainLimit: number,
  ) {}

  async *stream(): AsyncGenerator<Buffer> {
    const { limit, idleTimeoutMs, reservation } = this.limits;
    const chunks = this.source.iterator({ destroyOnReturn: false });
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(idleTimeout(idleTimeoutMs)), idleTimeoutMs);
        });
        let next: IteratorResult<unknown>;
        try {
          next = await Promise.race([chunks.next(), idle]);
        } catch (error) {
          throw error instanceof GatewayError ? error : unreadable(error);
        } finally {
          clearTimeout(timer);
        }
        if (next.done) break;
        const chunk = next.value as Buffer;
        this.bytes += chunk.length;
        if (this.bytes > limit) throw tooLarge(limit);
        if (this.chunks) {
          if (this.bytes <= this.retainLimit && reservation.tryGrowTo(this.bytes)) this.chunks.push(chunk);
          else this.chunks = null; // no longer replayable; what was kept is released with the request
        }
        yield chunk;
      }
      this.complete = true;
    } catch (error) {
      this.failure = error instanceof GatewayError ? error : unreadable(error);
      throw this.failure;
    }
  }

  /** The whole body again, when it was read to the end and kept. */
  replay(): Buffer | null {
    return this.complete && this.chunks ? Buffer.concat(this.chunks, this.bytes) : null;
  }

  canReplay(): boolean {
    return this.complete && this.chunks !== null;
  }
}
