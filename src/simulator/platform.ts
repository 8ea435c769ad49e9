// What sits in front of Wallaroo's API and engines: bearer-token checks (Envoy's jwt_authn wording) and the
// version's error answers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorControl } from './control.ts';
import type { WallarooErrorKind } from './versions/index.ts';

export interface Caller {
  username: string;
  /** A client's service account (client_credentials), not a user. */
  serviceAccount: boolean;
}

/** Sends the version's answer for `kind`; returns the reply so handlers can `return sendError(...)`. */
export function sendError(control: SimulatorControl, reply: FastifyReply, kind: WallarooErrorKind, detail?: string): FastifyReply {
  const answer = control.profile.error(kind, detail);
  void reply.code(answer.status).header('content-type', answer.contentType).send(Buffer.from(answer.body)); // a Buffer: no charset added
  return reply;
}

/** The caller a valid bearer token names, or null after answering 401 as the version does. */
export function authenticate(control: SimulatorControl, request: FastifyRequest, reply: FastifyReply): Caller | null {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  if (!match) {
    sendError(control, reply, 'jwt-missing');
    return null;
  }
  const verified = control.signer.verify(match[1]!, Math.floor(Date.now() / 1000));
  if (!verified.ok) {
    sendError(control, reply, verified.reason === 'Token is expired' ? 'jwt-expired' : 'jwt-invalid');
    return null;
  }
  if (verified.claims.typ !== 'Bearer') {
    sendError(control, reply, 'jwt-invalid');
    return null;
  }
  const username = String(verified.claims.preferred_username ?? '');
  return { username, serviceAccount: username.startsWith('service-account-') };
}
