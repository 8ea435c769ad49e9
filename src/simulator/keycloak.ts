// Keycloak's token endpoint as Wallaroo ships it: the confidential `api-client` (HTTP Basic, RFC 6749 2.3.1)
// for client_credentials, password and refresh grants, the public `sdk-client` (no secret) for password and
// refresh grants. Answers carry Keycloak's fields; lifetimes are the version's recorded ones.
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { mediaType } from '../http/headers.ts';
import type { SimulatorControl } from './control.ts';

export const TOKEN_PATH = '/auth/realms/master/protocol/openid-connect/token';
/** Wallaroo's public client: the SDK's password grant, no secret. */
export const PUBLIC_CLIENT = 'sdk-client';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/** RFC 6749 2.3.1: id and secret are form-urlencoded before base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/** Keycloak's user ids are UUIDs; a stable one per name keeps `sub` the same across tokens. */
function userId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

interface Grantee {
  clientId: string;
  /** The user, or null for a client's service account. */
  username: string | null;
}

/** Signs the tokens at once and answers after `tokenDeliveryDelayMs` (a signed token on the wire). */
async function issueTokens(control: SimulatorControl, grant: string, who: Grantee, sessionState: string | null): Promise<Record<string, unknown>> {
  const { lifetimes } = control.profile;
  const iat = nowSeconds();
  const iss = `${control.keycloakUrl}/auth/realms/master`;
  const recorded = who.username === null ? lifetimes.clientCredentials : who.clientId === PUBLIC_CLIENT ? lifetimes.publicPassword : lifetimes.confidentialPassword;
  const lifetime = control.tokenLifetimeSeconds ?? recorded;
  const refreshLifetime = control.refreshLifetimeSeconds ?? lifetimes.refresh;
  const sub = userId(who.username ?? `service-account-${who.clientId}`);
  const common = { iat, jti: randomUUID(), iss, sub, azp: who.clientId, scope: 'profile email' };
  const access = who.username === null
    ? { ...common, exp: iat + lifetime, aud: ['master-realm', 'account'], typ: 'Bearer', preferred_username: `service-account-${who.clientId}`, clientId: who.clientId }
    : { ...common, exp: iat + lifetime, aud: ['master-realm', 'account'], typ: 'Bearer', preferred_username: who.username, session_state: sessionState, sid: sessionState };
  const body: Record<string, unknown> = {
    access_token: control.signer.sign(access),
    expires_in: lifetime,
    // Keycloak gives a service account no refresh token, and says so with 0.
    refresh_expires_in: who.username === null ? 0 : refreshLifetime,
  };
  if (who.username !== null) {
    body.refresh_token = control.signer.sign({ ...common, exp: iat + refreshLifetime, aud: iss, typ: 'Refresh', preferred_username: who.username, session_state: sessionState, sid: sessionState });
  }
  body.token_type = 'Bearer';
  body['not-before-policy'] = 0;
  if (sessionState !== null) body.session_state = sessionState;
  body.scope = 'profile email';
  for (const token of [body.access_token, body.refresh_token]) if (typeof token === 'string') control.issuedTokens.push(token);
  if (control.issuedTokens.length > 1000) control.issuedTokens.splice(0, control.issuedTokens.length - 1000);
  if (control.tokenDeliveryDelayMs > 0) await sleep(control.tokenDeliveryDelayMs);
  control.emit('token-issued', { grant, clientId: who.clientId, expiresIn: lifetime });
  return body;
}

const oauthError = (reply: FastifyReply, status: number, error: string, description: string) =>
  reply.code(status).send({ error, error_description: description });

export function registerKeycloak(app: FastifyInstance, control: SimulatorControl): void {
  app.post(TOKEN_PATH, async (request, reply) => {
    control.counts.token++;
    if (control.tokenLatencyMs > 0) await sleep(control.tokenLatencyMs);
    if (control.tokenEndpointDown) {
      request.raw.socket.destroy(); // a provider that is down: the connection dies without an answer
      return reply;
    }
    const fault = control.tokenFaults.shift();
    if (fault) return reply.code(fault.status).headers(fault.headers ?? {}).send(fault.body ?? '');
    if (mediaType(request.headers['content-type']) !== 'application/x-www-form-urlencoded') {
      return oauthError(reply, 400, 'invalid_request', 'form body required');
    }
    const form = new URLSearchParams(String(request.body ?? ''));
    const grant = form.get('grant_type') ?? '';
    control.counts.tokenByGrant[grant] = (control.counts.tokenByGrant[grant] ?? 0) + 1;
    control.emit('token-requested', { grant });
    // Keycloak sets session cookies on this endpoint; the gateway must never pass them on.
    reply.header('set-cookie', 'KC_RESTART=simulated; Path=/auth/realms/master; HttpOnly');

    const basic = basicCredentials(request.headers.authorization);
    const clientId = basic?.id ?? form.get('client_id') ?? '';
    const secret = basic?.secret ?? form.get('client_secret');
    const confidential = control.clients[clientId] !== undefined;
    if (!confidential && clientId !== PUBLIC_CLIENT) return oauthError(reply, 401, 'invalid_client', 'Invalid client or Invalid client credentials');
    if (confidential && control.clients[clientId] !== secret) return oauthError(reply, 401, 'invalid_client', 'Invalid client or Invalid client credentials');

    if (grant === 'client_credentials') {
      if (!confidential) return oauthError(reply, 401, 'unauthorized_client', 'Public client not allowed to retrieve service account');
      return issueTokens(control, grant, { clientId, username: null }, null);
    }
    if (grant === 'password') {
      const username = form.get('username') ?? '';
      if (control.users[username] === undefined || control.users[username] !== form.get('password')) {
        return oauthError(reply, 401, 'invalid_grant', 'Invalid user credentials');
      }
      return issueTokens(control, grant, { clientId, username }, randomUUID());
    }
    if (grant === 'refresh_token') {
      const verified = control.signer.verify(form.get('refresh_token') ?? '', nowSeconds());
      if (!verified.ok || verified.claims.typ !== 'Refresh') return oauthError(reply, 400, 'invalid_grant', verified.ok ? 'Invalid refresh token' : 'Token is not active');
      if (verified.claims.azp !== clientId) return oauthError(reply, 400, 'invalid_grant', "Invalid refresh token. Token client and authorized client don't match");
      const session = typeof verified.claims.session_state === 'string' ? verified.claims.session_state : randomUUID();
      return issueTokens(control, grant, { clientId, username: String(verified.claims.preferred_username) }, session);
    }
    return oauthError(reply, 400, 'unsupported_grant_type', 'Unsupported grant_type');
  });
}
