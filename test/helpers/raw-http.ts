import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/** An HTTP stand-in (for Wallaroo) on 127.0.0.1:0 answering with `handler`; closed, connections and all, when the test ends. */
export async function listenHttp(t: TestContext, handler: RequestListener): Promise<number> {
  const server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** A raw TCP server on 127.0.0.1:0 that hands each connection to `onConnection`; closed when the test ends. */
export async function listenRaw(t: TestContext, onConnection: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Connections a test holds open on purpose are destroyed at the end, or close() would wait for them forever.
  t.after(() => new Promise((resolve) => {
    server.close(resolve);
    for (const socket of sockets) socket.destroy();
  }));
  return (server.address() as AddressInfo).port;
}

/**
 * Writes raw bytes to a server and collects what it answers within `waitMs` (for requests no HTTP client will
 * send: lying Content-Length, stalled bodies). Resolves with the text, whether the server closed first, and
 * when the first byte of the answer came. With `untilAnswer`, resolves as soon as one whole answer (headers and
 * Content-Length bytes) is in, and stops sending: `waitMs` is then only the bound.
 */
export function rawExchange(url: string, chunks: Array<string | Buffer>, options: { waitMs: number; gapMs?: number; untilAnswer?: boolean }): Promise<{ text: string; closed: boolean; ms: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname);
    let text = '';
    let closed = false;
    let firstByteAt: number | null = null;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: (firstByteAt ?? Date.now()) - started });
    };
    const timer = setTimeout(finish, options.waitMs);
    socket.on('data', (data) => {
      firstByteAt ??= Date.now();
      text += data.toString('latin1');
      if (options.untilAnswer && isWholeAnswer(text)) finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    // A server that answers and closes while the client is still sending resets the connection (or the next
    // write hits EPIPE); what it answered before that is in `text`.
    socket.on('error', (error) => (['ECONNRESET', 'EPIPE'].includes((error as NodeJS.ErrnoException).code ?? '') ? finish() : reject(error)));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed || (options.untilAnswer && text !== '')) return;
        socket.write(chunk);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    });
  });
}

function isWholeAnswer(text: string): boolean {
  const headerEnd = text.indexOf('\r\n\r\n');
  if (headerEnd < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headerEnd))?.[1];
  return length !== undefined && Buffer.byteLength(text.slice(headerEnd + 4), 'latin1') >= Number(length);
}

export function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

export function jsonBodyOf(text: string): Record<string, unknown> {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  const start = body.indexOf('{');
  return JSON.parse(body.slice(start, body.lastIndexOf('}') + 1)) as Record<string, unknown>;
}
