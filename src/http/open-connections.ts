import type { Server, Socket } from 'node:net';

// Every connection the gateway's listeners accepted and have not closed, as raw TCP sockets (a TLS connection still
// in its handshake included), so shutdown can end the ones that would hold it open. A connection that never sends
// a request outlives server.close(): Node stops checking headersTimeout once the listener closes, Fastify's
// closing of idle connections does not count it, and close waits for it without end (exit 1 at every shutdown
// with a silent TCP probe or a pre-opened proxy connection attached).

export class OpenConnections {
  private readonly sockets = new Set<Socket>();

  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Destroys every connection still open; returns how many. */
  destroyAll(): number {
    const count = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return count;
  }
}
