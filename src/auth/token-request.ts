import { type Dispatcher, request } from 'undici';
import { readSecret } from '../config/secrets.ts';
import type { SecretRef } from '../config/types.ts';

// One request to Keycloak's token endpoint and the reading of its answer. The grants Wallaroo documents:
// client_credentials with the confidential client (HTTP Basic), for inference; password (and refresh_token) for
// the MLOps API, either with the confidential client and its secret (HTTP Basic, as the SDK's
// `HTTPBasicAuth(api-client, secret)`) or with the public `sdk-client` (client_id in the form, no secret).

export type TokenGrant =
  | { type: 'client_credentials'; clientId: string; clientSecret: SecretRef }
  | { type: 'password'; clientId: string; clientSecret: SecretRef | null; username: string; password: SecretRef };

export interface TokenAnswer {
  accessToken: string;
  expiresInSeconds: number;
  refreshToken: string | null;
  refreshExpiresInSeconds: number;
}

/** `transient` failures are worth retrying soon; the others (refused credentials) only after the backoff cap. */
export class TokenRequestError extends Error {
  constructor(message: string, readonly transient: boolean) {
    super(message);
    this.name = 'TokenRequestError';
  }
}

/** application/x-www-form-urlencoded, as RFC 6749 2.3.1 requires before Basic's base64. */
export function formUrlEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

const OAUTH_ERROR = /^[a-z_]{1,40}$/;
/** Keycloak's answers for credentials that will not start working by themselves. */
const REFUSED_CREDENTIALS = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'unsupported_grant_type', 'invalid_scope']);
/** Without `expires_in`, Keycloak's shortest common lifetime: refreshed early rather than late. */
const DEFAULT_LIFETIME_SECONDS = 60;
/**
 * A longer lifetime is taken as this one: the token is refreshed at least daily whatever the provider says (a
 * 30-day service-account token, or 1e308), which keeps every refresh timer far below setTimeout's 24.8-day
 * ceiling (beyond it a timer fires after 1 ms: a refresh loop) and every expiry a sane number.
 */
export const MAX_LIFETIME_SECONDS = 86_400;

async function secret(ref: SecretRef): Promise<string> {
  try {
    return await readSecret(ref);
  } catch (error) {
    throw new TokenRequestError(`cannot read the secret file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, false);
  }
}

async function formFor(grant: TokenGrant, refreshToken: string | null): Promise<{ form: URLSearchParams; authorization: string | null }> {
  const form = new URLSearchParams();
  const confidential = grant.clientSecret !== null;
  const authorization = grant.clientSecret ? basicAuthorization(grant.clientId, await secret(grant.clientSecret)) : null;
  if (grant.type === 'client_credentials') {
    form.set('grant_type', 'client_credentials');
  } else if (refreshToken) {
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', refreshToken);
  } else {
    form.set('grant_type', 'password');
    form.set('username', grant.username);
    form.set('password', await secret(grant.password));
  }
  if (!confidential) form.set('client_id', grant.clientId);
  return { form, authorization };
}

export interface TokenRequest {
  tokenUrl: string;
  grant: TokenGrant;
  /** A refresh token still valid for the password grant, else null. */
  refreshToken: string | null;
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** The refresh token was refused: the caller forgets it (this request then uses the password grant). */
  onRefreshRefused(): void;
}

/** One token request (two when a refused refresh token falls back to the password grant). */
export async function requestToken(options: TokenRequest): Promise<TokenAnswer> {
  try {
    return await requestOnce(options, options.refreshToken);
  } catch (error) {
    if (!(error instanceof RefreshRefused)) throw error;
    options.onRefreshRefused();
    return requestOnce(options, null);
  }
}

class RefreshRefused extends Error {}

async function requestOnce(options: TokenRequest, refreshToken: string | null): Promise<TokenAnswer> {
  const { form, authorization } = await formFor(options.grant, refreshToken);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (authorization) headers.authorization = authorization;
  let status: number;
  let text: string;
  try {
    const response = await request(options.tokenUrl, {
      method: 'POST',
      headers,
      body: form.toString(),
      dispatcher: options.dispatcher,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      // The whole exchange, connect to the end of the answer, in one bound: a hanging provider costs this, once.
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    const code = (error as { code?: string }).code;
    const name = (error as Error).name;
    const what = name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? `no answer within ${options.timeoutMs} ms` : `unreachable (${code ?? name})`;
    throw new TokenRequestError(`token endpoint ${what}`, true);
  }
  let payload: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = text ? JSON.parse(text) : null;
    payload = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    payload = null;
  }
  if (status !== 200) {
    // Summarise, never echo: the OAuth error code is safe to log, a description may not be.
    const oauthError = typeof payload?.error === 'string' && OAUTH_ERROR.test(payload.error) ? payload.error : null;
    if (refreshToken && status === 400) throw new RefreshRefused();
    const refused = status === 401 || status === 403 || (oauthError !== null && REFUSED_CREDENTIALS.has(oauthError));
    const transient = status >= 500 || status === 429 || status === 408 || !refused;
    throw new TokenRequestError(`token endpoint answered ${status}${oauthError ? ` ${oauthError}` : ''}`, transient);
  }
  const accessToken = payload?.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    // An empty or malformed 200 is a provider hiccup, not an answer (envoy#42009): retried.
    throw new TokenRequestError('token endpoint answered 200 without an access_token', true);
  }
  // A bearer token is visible ASCII (RFC 6750 b64token); anything else (CR LF, spaces, controls) cannot go into an
  // Authorization header: held, it would fail every call to Wallaroo for the token's lifetime, blamed on Wallaroo.
  if (!BEARER_TOKEN.test(accessToken)) throw new TokenRequestError('token endpoint answered 200 with an access_token that is not a valid bearer token', true);
  const refreshTokenValue = payload?.refresh_token;
  if (typeof refreshTokenValue === 'string' && refreshTokenValue !== '' && !BEARER_TOKEN.test(refreshTokenValue)) {
    throw new TokenRequestError('token endpoint answered 200 with a refresh_token that is not a valid token', true);
  }
  const expiresIn = Math.min(positiveNumber(payload?.expires_in) ?? DEFAULT_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS);
  const refresh = typeof payload?.refresh_token === 'string' && payload.refresh_token !== '' ? payload.refresh_token : null;
  return {
    accessToken,
    expiresInSeconds: expiresIn,
    refreshToken: refresh,
    // Keycloak says 0 for "no expiry of its own" (an offline token); treat it as living as long as the access token.
    refreshExpiresInSeconds: Math.min(positiveNumber(payload?.refresh_expires_in) ?? expiresIn, MAX_LIFETIME_SECONDS),
  };
}

const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function positiveNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}
