import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type Dispatcher, request } from 'undici';
import { readSecret } from '../config/secrets.ts';
import type { SecretRef } from '../config/types.ts';
import { GatewayError } from '../errors.ts';

/**
 * Keeps one valid OAuth2 access token for Wallaroo.
 * - One fetch at a time: concurrent callers share the in-flight request.
 * - Refreshed in the background `refreshBeforeMs` ahead of expiry, timed from `expires_in` on the local
 *   monotonic clock, so clock skew between us and Keycloak does not matter.
 * - Never hands out an expired token: with none valid and the provider failing, callers get
 *   GW_TOKEN_UNAVAILABLE (503 + Retry-After) and the provider is not hammered (a short failure cool-down).
 * - After an upstream 401, `replacementFor(token)` drops that token only if it is still the current one, so a
 *   burst of 401s causes one fetch, and says whether the replacement is known to postdate the refusal.
 */
export type TokenGrant =
  | { type: 'client_credentials'; clientId: string; clientSecret: SecretRef }
  | { type: 'password'; clientId: string; username: string; password: SecretRef };

export type TokenKind = 'inference' | 'mlops';

export interface TokenEvents {
  /** result: success | failure | rejected (the provider refused the credentials). */
  tokenRequest?(kind: TokenKind, result: 'success' | 'failure' | 'rejected'): void;
  tokenExpiry?(kind: TokenKind, epochSeconds: number): void;
  /** A token request failed; `reason` is the logged summary (never a secret). */
  tokenFailure?(kind: TokenKind, reason: string): void;
}

export interface TokenManagerOptions {
  kind: TokenKind;
  tokenUrl: string;
  grant: TokenGrant;
  refreshBeforeMs: number;
  dispatcher: Dispatcher;
  logger: Logger;
  events?: TokenEvents;
  /** Monotonic milliseconds. */
  now?: () => number;
  requestTimeoutMs?: number;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  failureCooldownMs?: number;
}

interface HeldToken {
  value: string;
  expiresAt: number;
  /** Handed out until here: a margin before expiry so a token never expires while its request is on the wire. */
  usableUntil: number;
  /** The sequence number of the fetch that produced it (see `replacementFor`). */
  fetch: number;
}

/** A token to replay with after a 401, and whether its fetch began after the refusal was seen. */
export interface Replacement {
  token: string;
  fresh: boolean;
}

class TokenRequestError extends Error {
  constructor(message: string, readonly transient: boolean) {
    super(message);
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

export class TokenManager {
  readonly kind: TokenKind;
  private token: HeldToken | null = null;
  private refreshToken: { value: string; expiresAt: number } | null = null;
  private inflight: Promise<HeldToken> | null = null;
  private fetchesStarted = 0;
  private inflightFetch = 0;
  private refreshTimer: NodeJS.Timeout | null = null;
  private lastFailure: { at: number; error: GatewayError } | null = null;
  private closed = false;
  private readonly now: () => number;
  private readonly options: Required<Omit<TokenManagerOptions, 'events'>> & { events: TokenEvents };

  constructor(options: TokenManagerOptions) {
    this.kind = options.kind;
    this.now = options.now ?? (() => performance.now());
    this.options = {
      requestTimeoutMs: 5_000,
      attempts: 3,
      baseDelayMs: 100,
      maxDelayMs: 2_000,
      failureCooldownMs: 1_000,
      events: {},
      now: this.now,
      ...options,
    };
  }

  /** True while a token is held that is not past its expiry. */
  hasValidToken(): boolean {
    return this.token !== null && this.now() < this.token.expiresAt;
  }

  /** A valid access token, fetching one if needed (shared with every concurrent caller). */
  async current(): Promise<string> {
    const held = this.token;
    if (held && this.now() < held.usableUntil) return held.value;
    return (await this.refresh()).value;
  }

  /**
   * The token to replay with after Wallaroo refused `refused` (401). A fetch already under way, or a token
   * fetched before the refusal, may predate whatever revoked the refused token (a key rotation mid-fetch), so
   * the answer says whether its fetch began after this call (`fresh`). A caller whose replay with a token that is
   * not fresh is refused again asks with `requireFresh`, which waits out older fetches and starts a new one.
   */
  async replacementFor(refused: string, requireFresh: boolean): Promise<Replacement> {
    const mark = this.fetchesStarted;
    this.invalidate(refused);
    for (;;) {
      const held = this.token;
      if (held && this.now() < held.usableUntil && (!requireFresh || held.fetch > mark)) {
        return { token: held.value, fresh: held.fetch > mark };
      }
      if (this.inflight && requireFresh && this.inflightFetch <= mark) {
        await this.inflight.catch(() => undefined);
        continue; // bounded: no fetch started before `mark` can be under way on the next pass
      }
      const fetched = await this.refresh();
      return { token: fetched.value, fresh: fetched.fetch > mark };
    }
  }

  /** Drop `token` after Wallaroo refused it (401), unless a newer token already replaced it. */
  invalidate(token: string): void {
    if (this.token?.value === token) {
      this.token = null;
      this.options.logger.info({ kind: this.kind }, 'token refused upstream; fetching a new one');
    }
  }

  /** Fetch eagerly at start so the first request does not wait and /readyz turns green. */
  start(): void {
    this.refresh().catch(() => {
      /* logged in refresh; the timer retries */
    });
  }

  close(): void {
    this.closed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  private refresh(): Promise<HeldToken> {
    if (this.inflight) return this.inflight;
    const failure = this.lastFailure;
    if (failure && this.now() - failure.at < this.options.failureCooldownMs) return Promise.reject(failure.error);
    const fetch = ++this.fetchesStarted;
    this.inflightFetch = fetch;
    this.inflight = this.fetchWithRetry(fetch).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchWithRetry(fetch: number): Promise<HeldToken> {
    const { attempts, baseDelayMs, maxDelayMs, logger } = this.options;
    let lastError: TokenRequestError | null = null;
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      try {
        const token = await this.fetchOnce(fetch);
        this.token = token;
        this.lastFailure = null;
        this.options.events.tokenRequest?.(this.kind, 'success');
        this.scheduleRefresh(token);
        return token;
      } catch (error) {
        lastError = error instanceof TokenRequestError ? error : new TokenRequestError(String((error as Error).message), true);
        this.options.events.tokenRequest?.(this.kind, lastError.transient ? 'failure' : 'rejected');
        logger.warn({ kind: this.kind, attempt, reason: lastError.message }, 'token request failed');
        this.options.events.tokenFailure?.(this.kind, lastError.message);
        if (!lastError.transient) break;
        if (attempt < attempts) {
          const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
          await sleep(delay / 2 + Math.random() * (delay / 2)); // jitter, so replicas do not retry in step
        }
      }
    }
    const error = new GatewayError(
      'GW_TOKEN_UNAVAILABLE',
      `no valid Wallaroo ${this.kind} token: ${lastError?.message ?? 'gateway closing'}`,
      { headers: { 'retry-after': '2' } },
    );
    this.lastFailure = { at: this.now(), error };
    // Keep trying in the background while callers get fast 503s.
    this.scheduleRetry();
    throw error;
  }

  private async fetchOnce(fetch: number): Promise<HeldToken> {
    const { grant, tokenUrl, dispatcher, requestTimeoutMs } = this.options;
    const form = new URLSearchParams();
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    const refreshToken = this.refreshToken && this.now() < this.refreshToken.expiresAt - 2_000 ? this.refreshToken : null;
    if (grant.type === 'client_credentials') {
      form.set('grant_type', 'client_credentials');
      headers.authorization = basicAuthorization(grant.clientId, await this.secret(grant.clientSecret));
    } else if (refreshToken) {
      form.set('grant_type', 'refresh_token');
      form.set('client_id', grant.clientId);
      form.set('refresh_token', refreshToken.value);
    } else {
      form.set('grant_type', 'password');
      form.set('client_id', grant.clientId);
      form.set('username', grant.username);
      form.set('password', await this.secret(grant.password));
    }
    const startedAt = this.now();
    let response: Dispatcher.ResponseData;
    try {
      response = await request(tokenUrl, {
        method: 'POST',
        headers,
        body: form.toString(),
        dispatcher,
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new TokenRequestError(`token endpoint unreachable (${(error as { code?: string }).code ?? (error as Error).name})`, true);
    }
    let payload: Record<string, unknown> | null = null;
    try {
      const text = await response.body.text();
      payload = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      payload = null;
    }
    if (response.statusCode !== 200) {
      // Summarise, never echo: the OAuth error code is safe to log, a description may not be.
      const oauthError = typeof payload?.error === 'string' && OAUTH_ERROR.test(payload.error) ? ` ${payload.error}` : '';
      if (refreshToken && response.statusCode === 400) {
        this.refreshToken = null; // an expired or revoked refresh token: fall back to the password grant
        throw new TokenRequestError(`refresh token refused (400${oauthError})`, true);
      }
      const transient = response.statusCode >= 500 || response.statusCode === 429 || response.statusCode === 408;
      throw new TokenRequestError(`token endpoint answered ${response.statusCode}${oauthError}`, transient);
    }
    const accessToken = payload?.access_token;
    const expiresIn = payload?.expires_in;
    if (typeof accessToken !== 'string' || accessToken === '') {
      // An empty or malformed 200 is a provider hiccup, not an answer (envoy#42009): retry it.
      throw new TokenRequestError('token endpoint answered 200 without an access_token', true);
    }
    const lifetimeSeconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 60;
    const lifetimeMs = lifetimeSeconds * 1000;
    // Two seconds' margin, less for tokens that short-lived (tests, aggressive realms) so they are still used.
    const held = { value: accessToken, expiresAt: startedAt + lifetimeMs, usableUntil: startedAt + lifetimeMs - Math.min(2_000, lifetimeMs / 4), fetch };
    if (typeof payload?.refresh_token === 'string') {
      const refreshIn = typeof payload.refresh_expires_in === 'number' && payload.refresh_expires_in > 0 ? payload.refresh_expires_in : lifetimeSeconds;
      this.refreshToken = { value: payload.refresh_token, expiresAt: startedAt + refreshIn * 1000 };
    }
    this.options.events.tokenExpiry?.(this.kind, Math.floor(Date.now() / 1000) + lifetimeSeconds);
    return held;
  }

  private async secret(ref: SecretRef): Promise<string> {
    try {
      return await readSecret(ref);
    } catch (error) {
      throw new TokenRequestError(`cannot read the secret file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, false);
    }
  }

  private scheduleRefresh(token: HeldToken): void {
    if (this.closed) return;
    const lifetime = token.expiresAt - this.now();
    // Refresh `refreshBeforeMs` early, but never later than two thirds into a short-lived token.
    const lead = Math.max(this.options.refreshBeforeMs, lifetime / 3);
    this.setTimer(Math.max(0, lifetime - lead));
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    const remaining = this.token ? this.token.expiresAt - this.now() : 0;
    this.setTimer(Math.min(this.options.maxDelayMs * 2, Math.max(250, remaining / 2)));
  }

  private setTimer(delayMs: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.lastFailure = null; // a scheduled refresh is allowed through the failure cool-down
      this.refresh().catch(() => {
        /* logged; rescheduled by fetchWithRetry */
      });
    }, delayMs);
    this.refreshTimer.unref();
  }
}
