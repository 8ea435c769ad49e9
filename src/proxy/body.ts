import type { Readable } from 'node:stream';
import { GatewayError } from '../errors.ts';

/**
 * Request bodies. Fastify's bodyLimit does not cover a body the proxy streams itself, so bytes are counted
 * here and the read stops at the limit (413). Only what a 401/404 replay or a conversion needs is kept.
 */
export function assertWithinLimit(declared: number | null, limit: number): void {
  if (declared !== null && declared > limit) {
    throw new GatewayError('GW_BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`);
  }
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('GW_BODY_TOO_LARGE', `the body exceeds the limit of ${limit} bytes`);
}

function idleTimeout(idleTimeoutMs: number): GatewayError {
  return new GatewayError('GW_REQUEST_TIMEOUT', `no body bytes for ${idleTimeoutMs} ms`);
}

function unreadable(error: unknown): GatewayError {
  const code = (error as { code?: string } | null)?.code;
  return new GatewayError('GW_BAD_REQUEST', `the request body could not be read (${code ?? 'aborted'})`, { cause: error });
}

/**
 * Reads a whole body, at most `limit` bytes, failing if no byte arrives for `idleTimeoutMs` (slow-loris).
 * Event-driven with one refreshed timer: this runs for nearly every request. The request is never destroyed
 * here, so its socket lives to carry the error answer (sent with Connection: close).
 */
export function readBody(source: Readable, limit: number, idleTimeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (error: GatewayError | null) => {
      clearTimeout(timer);
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('aborted', onAborted);
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
      chunks.push(chunk);
      timer.refresh();
    };
    const onEnd = () => finish(null);
    const onError = (error: Error) => finish(unreadable(error));
    const onAborted = () => finish(new GatewayError('GW_BAD_REQUEST', 'the caller closed the connection while sending'));
    const timer = setTimeout(() => finish(idleTimeout(idleTimeoutMs)), idleTimeoutMs);
    if (source.readableEnded) return finish(null);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('aborted', onAborted);
  });
}

/**
 * The chunks of a request body, failing with GW_REQUEST_TIMEOUT when none arrives for `idleTimeoutMs`.
 * The request is not destroyed on timeout: its socket must live to carry the 408 (sent with Connection: close).
 */
async function* withIdleTimeout(source: Readable, idleTimeoutMs: number): AsyncGenerator<Buffer> {
  const chunks = source.iterator({ destroyOnReturn: false });
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
    if (next.done) return;
    yield next.value as Buffer;
  }
}

/**
 * A streamed body: counted against the limit as it flows to Wallaroo, and retained while it stays within
 * `retainLimit`, so a 401 or 404 can still be replayed once for moderately large bodies.
 */
export class MeteredBody {
  bytes = 0;
  failure: GatewayError | null = null;
  private chunks: Buffer[] | null = [];
  private complete = false;

  constructor(
    private readonly source: Readable,
    private readonly limit: number,
    private readonly retainLimit: number,
    private readonly idleTimeoutMs: number,
  ) {}

  async *stream(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of withIdleTimeout(this.source, this.idleTimeoutMs)) {
        this.bytes += chunk.length;
        if (this.bytes > this.limit) throw tooLarge(this.limit);
        if (this.chunks) {
          if (this.bytes <= this.retainLimit) this.chunks.push(chunk);
          else this.chunks = null;
        }
        yield chunk;
      }
      this.complete = true;
    } catch (error) {
      this.failure = error instanceof GatewayError ? error : new GatewayError('GW_BAD_REQUEST', 'the request body could not be read');
      throw this.failure;
    }
  }

  /** The whole body again, when it was read to the end and kept. */
  replay(): Buffer | null {
    return this.complete && this.chunks ? Buffer.concat(this.chunks, this.bytes) : null;
  }
}
