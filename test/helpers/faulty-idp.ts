import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { request } from 'undici';

/** How the identity provider behaves right now. */
export type IdpMode =
  | { kind: 'pass' }
  | { kind: 'hang' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'answer'; status: number; body: string };

export interface FaultyIdp {
  /** The token URL to configure as wallaroo.auth.tokenUrl. */
  tokenUrl: string;
  mode: IdpMode;
  /** Token requests received, whatever happened to them. */
  readonly requests: number;
  /** Emits 'request' for every token request as it arrives. */
  readonly events: EventEmitter;
}

/**
 * A Keycloak in front of the simulator's token endpoint that can be made to hang, slow down or answer errors on
 * demand, counting every request: the identity provider of the fault tests. Hanging connections are destroyed
 * when the test ends.
 */
export async function useFaultyIdp(t: TestContext, realTokenUrl: string): Promise<FaultyIdp> {
  const sockets = new Set<Socket>();
  const events = new EventEmitter();
  let count = 0;
  const idp = { mode: { kind: 'pass' } as IdpMode };
  const forward = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const answer = await request(realTokenUrl, {
      method: 'POST',
      headers: { 'content-type': String(incoming.headers['content-type'] ?? ''), ...(incoming.headers.authorization ? { authorization: incoming.headers.authorization } : {}) },
      body: Buffer.concat(chunks),
    });
    outgoing.writeHead(answer.statusCode, { 'content-type': 'application/json' }).end(Buffer.from(await answer.body.arrayBuffer()));
  };
  const server = createServer((incoming, outgoing) => {
    count++;
    events.emit('request');
    const mode = idp.mode;
    if (mode.kind === 'hang') return; // never answered; destroyed at the end
    if (mode.kind === 'answer') {
      outgoing.writeHead(mode.status, { 'content-type': 'application/json' }).end(mode.body);
      return;
    }
    const go = () => forward(incoming, outgoing).catch(() => outgoing.destroy());
    if (mode.kind === 'slow') setTimeout(go, mode.delayMs);
    else void go();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/realms/master/protocol/openid-connect/token`;
  return Object.defineProperties(
    { tokenUrl, events } as FaultyIdp,
    {
      mode: { get: () => idp.mode, set: (mode: IdpMode) => (idp.mode = mode), enumerable: true },
      requests: { get: () => count, enumerable: true },
    },
  );
}
