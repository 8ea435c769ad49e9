import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { answerNoRoute } from '../errors.ts';

// `Expect: 100-continue`: Node answers 100 Continue as soon as the headers are in, inviting a body the route may
// then refuse (413 for a declared length over the limit, 401, 429, 503). Here nothing is invited until the route
// wants the body: routes marked `invitesBody` call inviteBody() after their own checks, every other route gets it
// before its body is parsed, and an unknown route answers its 404 (a known path under another method its 405) without one. A refusal sent without the 100
// closes the connection (Node's rule), so an unread body is never parsed as the next request.

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The handler calls inviteBody() itself, once it has checked what it can before reading the body. */
    invitesBody?: boolean;
  }
}

const invited = new WeakSet<ServerResponse>();

/** Whether the caller holds its body back until a 100 Continue that has not been sent yet. */
function awaitsInvitation(request: IncomingMessage, response: ServerResponse): boolean {
  const { expect } = request.headers;
  // An HTTP/1.0 client cannot take a 100 (RFC 9110 10.1.1: the expectation is ignored).
  return expect !== undefined && request.httpVersion !== '1.0' && /100-continue/i.test(expect) && !invited.has(response) && !response.headersSent;
}

/** Sends 100 Continue when the caller waits for it (once). */
export function inviteBody(request: IncomingMessage, response: ServerResponse): void {
  if (!awaitsInvitation(request, response)) return;
  invited.add(response);
  response.writeContinue();
}

export function installDeferredContinue(app: FastifyInstance): void {
  // With a listener, Node leaves the 100 to the application and emits the request as usual.
  app.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => app.server.emit('request', request, response));
  app.addHook('preParsing', (request, reply, payload, done) => {
    if (request.is404 && awaitsInvitation(request.raw, reply.raw)) {
      // No route will read the body: the 404 (405 on a known path) now, rather than an invitation to send what
      // nothing reads.
      answerNoRoute(request, reply);
      return;
    }
    if (request.routeOptions.config?.invitesBody !== true) inviteBody(request.raw, reply.raw);
    done(null, payload);
  });
}
