// One file over 300 lines on purpose: the single-flight fetch, the refresh timer, the backoff and the status
// share one state machine (the fields of TokenManager); split apart, each piece would need the others' internals.
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors.ts';
import { fullJitterDelay } from '../http/backoff.ts';
import { type Bounds, remainingMs, sleepWithin, within } from '../http/deadline.ts';
import { TokenRequestError, type TokenGrant, requestToken } from './token-request.ts';

// Keeps one valid OAuth2 access token for Wallaroo and owns every rule about when to ask for another:
// - one fetch at a time: concurrent callers share it, each waiting no longer than its own bounds;
// - refreshed in the background ahead of expiry, timed from `expires_in` on the local monotonic clock (clock skew
//   between us and Keycloak does not matter), never sooner than a floor, so a 60 s token is not a hot loop;
// - a failing token endpoint is retried with exponential backoff and full jitter (250 ms doubling to 30 s, reset
//   on success; refused credentials wait the cap at once); while no valid token is held callers get a fast 503
//   GW_TOKEN_UNAVAILABLE with Retry-After, never an expired token and never a queue behind the provider;
// - logged once per change of state, plus a summary while an outage lasts, never once per attempt;
// - after an upstream 401 (see replay.ts) a burst of refusals causes one fetch, and a token Wallaroo refuses even
//   though it was fetched after a refusal (a permissions problem) causes at most one fetch per refusal window.

export type { TokenGrant } from './token-request.ts';
export type TokenKind = 'inference' | 'mlops';

export interface TokenEvents {
  /** result: success | failure (transient, retried) | rejected (the provider refused the credentials). */
  tokenRequest?(kind: TokenKind, result: 'success' | 'failure' | 'rejected'): void;
  tokenExpiry?(kind: TokenKind, epochSeconds: number): void;
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
  random?: () => number;
  /** One token request's bound (connect to end of answer). */
  requestTimeoutMs?: number;
  backoff?: { baseMs: number; capMs: number };
  /** After a token fetched for a replay is refused too, no new fetch for a refusal of it within this window. */
  refusalWindowMs?: number;
  /** While failing, a summary line at most this often. */
  summaryEveryMs?: number;
}

/** A held access token. `fetch` numbers the fetch that produced it (see `replacementFor`). */
export interface Token {
  readonly value: string;
  readonly fetch: number;
  readonly expiresAt: number;
  /** Handed out until here: a margin before expiry, so a token never expires on the wire. */
  readonly usableUntil: number;
  /** Wallaroo answered a request carrying it with something other than 401. */
  accepted: boolean;
  /** When Wallaroo refused it although it was fetched after a refusal (permissions, not expiry). */
  refusedFreshAt: number | null;
}

/** A token to replay with after a 401, and whether its fetch began after the refusal was seen. */
export interface Replacement {
  token: Token;
  fresh: boolean;
}

/** What /readyz, /pipelines and the status page show: no token value, ever. */
export interface TokenStatus {
  kind: TokenKind;
  endpoint: string;
  valid: boolean;
  everObtained: boolean;
  expiresInSeconds: number | null;
  lastError: { cause: string; at: string; consecutiveFailures: number; nextAttemptInMs: number | null } | null;
}

const MIN_REFRESH_DELAY_MS = 1_000;
/** A caller waits for the next token attempt only when it is due within this long. */
const MAX_WAIT_FOR_RETRY_MS = 1_000;

/**
 * When to refresh a token that lives `lifetimeMs`: `refreshBeforeMs` ahead of expiry, but never in the first two
 * thirds of its life, and never sooner than a second. Correct for any lifetime (a 60 s token with the default 60 s
 * lead refreshes at 40 s, not at once and forever).
 */
export function refreshDelayMs(lifetimeMs: number, refreshBeforeMs: number): number {
  const delay = Math.max(MIN_REFRESH_DELAY_MS, lifetimeMs - Math.min(refreshBeforeMs, lifetimeMs / 3));
  // setTimeout fires after 1 ms for any delay beyond 2^31 - 1 ms (24.8 days): that would be a refresh loop.
  return Math.min(delay, MAX_TIMER_DELAY_MS);
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export class TokenManager {
  readonly kind: TokenKind;
  private token: Token | null = null;
  private refreshToken: { value: string; expiresAt: number } | null = null;
  private inflight: Promise<Token> | null = null;
  private inflightFetch = 0;
  private fetchesStarted = 0;
  private everObtained = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Consecutive failed fetches, and when the next one may start (null: whenever needed). */
  private failures = 0;
  private nextAttemptAt: number | null = null;
  private lastError: { cause: string; at: number; wallClock: number } | null = null;
  private outageStartedAt = 0;
  private lastSummaryAt = 0;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: { baseMs: number; capMs: number };
  private readonly refusalWindowMs: number;
  private readonly summaryEveryMs: number;
  private readonly events: TokenEvents;

  constructor(private readonly options: TokenManagerOptions) {
    this.kind = options.kind;
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.backoff = options.backoff ?? { baseMs: 250, capMs: 30_000 };
    this.refusalWindowMs = options.refusalWindowMs ?? 10_000;
    this.summaryEveryMs = options.summaryEveryMs ?? 60_000;
    this.events = options.events ?? {};
  }

  /** The held token when it is usable now, without waiting (the hot path). */
  peek(): Token | null {
    const held = this.token;
    return held !== null && this.now() < held.usableUntil ? held : null;
  }

  /** True while a token is held that is not past its expiry. */
  hasValidToken(): boolean {
    return this.token !== null && this.now() < this.token.expiresAt;
  }

  /** A token was obtained at least once since start (readiness latches on it). */
  get obtainedOnce(): boolean {
    return this.everObtained;
  }

  /**
   * A usable token, fetching one if needed (the hot path answers from memory). Waits no longer than `bounds`,
   * and past a failed fetch only for a next attempt due within a second; otherwise fails at once with
   * GW_TOKEN_UNAVAILABLE and a Retry-After for the next attempt.
   */
  async get(bounds: Bounds): Promise<Token> {
    for (;;) {
      const held = this.peek();
      if (held) return held;
      const fetch = this.inflight ?? (this.backoffLeftMs() === 0 ? this.startFetch() : null);
      if (fetch) {
        try {
          return await this.wait(fetch, bounds);
        } catch (error) {
          if (bounds.signal.aborted) throw error;
          continue; // the fetch failed: the backoff below decides whether this caller can wait for the next one
        }
      }
      // In backoff with no usable token: wait for the next attempt if it is due soon (a blip at the start of an
      // outage) and before this caller's deadline; else answer at once (503 + Retry-After) rather than hold
      // callers through an outage. Callers never cause attempts of their own.
      const backoffLeft = this.backoffLeftMs();
      if (backoffLeft > MAX_WAIT_FOR_RETRY_MS || backoffLeft >= remainingMs(bounds)) throw this.unavailable(backoffLeft);
      await sleepWithin(backoffLeft, bounds, () => this.unavailable(this.backoffLeftMs()));
    }
  }

  /**
   * The token to replay with after Wallaroo refused `refused` (401), or null when no new token will be fetched
   * yet (the refused token was itself fetched after a refusal, within the refusal window). A fetch under way, or a
   * token fetched before the refusal, may predate whatever revoked the refused one (a key rotation mid-fetch), so
   * the answer says whether its fetch began after this call (`fresh`); with `requireFresh` only such a token will
   * do, which waits out older fetches and starts a new one.
   */
  async replacementFor(refused: Token, bounds: Bounds, requireFresh: boolean): Promise<Replacement | null> {
    const mark = this.fetchesStarted;
    if (!this.dropRefused(refused)) return null;
    for (;;) {
      const held = this.peek();
      if (held && held !== refused && (!requireFresh || held.fetch > mark)) return { token: held, fresh: held.fetch > mark };
      if (this.inflight && (!requireFresh || this.inflightFetch > mark)) {
        const token = await this.wait(this.inflight, bounds);
        return { token, fresh: token.fetch > mark };
      }
      if (this.inflight !== null) {
        await this.wait(this.inflight, bounds).catch(() => undefined);
        continue; // bounded: a fetch started before `mark` cannot be under way on the next pass
      }
      const backoffLeft = this.backoffLeftMs();
      if (backoffLeft > 0) throw this.unavailable(backoffLeft);
      const token = await this.wait(this.startFetch(), bounds);
      return { token, fresh: token.fetch > mark };
    }
  }

  /**
   * Forget `refused` so the next caller fetches anew, unless a newer token already replaced it or it is a
   * post-refusal token inside its refusal window. Returns whether a new token may be fetched for this refusal.
   */
  dropRefused(refused: Token): boolean {
    if (this.token !== refused) return true; // already replaced: the replacement is what to use
    if (!refused.accepted && refused.refusedFreshAt !== null && this.now() - refused.refusedFreshAt < this.refusalWindowMs) return false;
    this.token = null;
    this.options.logger.info({ kind: this.kind }, 'token refused upstream; fetching a new one');
    return true;
  }

  /** Wallaroo accepted a request carrying `token`. */
  accepted(token: Token): void {
    token.accepted = true;
    token.refusedFreshAt = null;
  }

  /** Wallaroo refused `token` although it was fetched after a refusal: keep it, but fetch no more for a while. */
  refusedWhileFresh(token: Token): void {
    if (token.refusedFreshAt === null) {
      this.options.logger.warn(
        { kind: this.kind, retryInMs: this.refusalWindowMs },
        'Wallaroo refused a token fetched after its previous refusal: credentials or permissions, not expiry',
      );
    }
    token.refusedFreshAt = this.now();
  }

  /** Fetch at start, so the first request does not wait and readiness turns green. */
  start(): void {
    this.startFetch().catch(() => undefined); // logged; the schedule retries
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  status(): TokenStatus {
    const now = this.now();
    const { lastError } = this;
    return {
      kind: this.kind,
      endpoint: endpointOf(this.options.tokenUrl),
      valid: this.hasValidToken(),
      everObtained: this.everObtained,
      expiresInSeconds: this.token ? Math.max(0, Math.round((this.token.expiresAt - now) / 1000)) : null,
      lastError: lastError
        ? {
            cause: lastError.cause,
            at: new Date(lastError.wallClock).toISOString(),
            consecutiveFailures: this.failures,
            nextAttemptInMs: this.nextAttemptAt === null ? null : Math.max(0, Math.round(this.nextAttemptAt - now)),
          }
        : null,
    };
  }

  private wait(fetch: Promise<Token>, bounds: Bounds): Promise<Token> {
    return within(fetch, bounds, () => this.unavailable(this.backoffLeftMs(), 'the identity provider did not answer within the request deadline'));
  }

  private backoffLeftMs(): number {
    return this.nextAttemptAt === null ? 0 : Math.max(0, this.nextAttemptAt - this.now());
  }

  private unavailable(retryInMs: number, detail?: string): GatewayError {
    const cause = detail ?? this.lastError?.cause ?? 'no token obtained yet';
    return new GatewayError('GW_TOKEN_UNAVAILABLE', `no valid Wallaroo ${this.kind} token: ${cause}`, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryInMs / 1000))) },
    });
  }

  private startFetch(): Promise<Token> {
    if (this.inflight !== null) return this.inflight;
    const fetch = ++this.fetchesStarted;
    this.inflightFetch = fetch;
    const inflight = this.fetchOnce(fetch).finally(() => {
      if (this.inflight === inflight) this.inflight = null;
    });
    this.inflight = inflight;
    return inflight;
  }

  private async fetchOnce(fetch: number): Promise<Token> {
    const startedAt = this.now();
    try {
      const answer = await requestToken({
        tokenUrl: this.options.tokenUrl,
        grant: this.options.grant,
        refreshToken: this.refreshToken && startedAt < this.refreshToken.expiresAt - 2_000 ? this.refreshToken.value : null,
        dispatcher: this.options.dispatcher,
        timeoutMs: this.requestTimeoutMs,
        onRefreshRefused: () => {
          this.refreshToken = null; // expired or revoked: the password grant follows at once
        },
      });
      const lifetimeMs = answer.expiresInSeconds * 1000;
      const token: Token = {
        value: answer.accessToken,
        fetch,
        expiresAt: startedAt + lifetimeMs,
        usableUntil: startedAt + lifetimeMs - Math.min(2_000, lifetimeMs / 4),
        accepted: false,
        refusedFreshAt: null,
      };
      if (answer.refreshToken) this.refreshToken = { value: answer.refreshToken, expiresAt: startedAt + answer.refreshExpiresInSeconds * 1000 };
      this.token = token;
      this.everObtained = true;
      this.recovered();
      this.events.tokenRequest?.(this.kind, 'success');
      this.events.tokenExpiry?.(this.kind, Math.floor(Date.now() / 1000) + answer.expiresInSeconds);
      this.schedule(refreshDelayMs(lifetimeMs, this.options.refreshBeforeMs));
      return token;
    } catch (error) {
      const failure = error instanceof TokenRequestError ? error : new TokenRequestError(`token request failed (${(error as Error).name})`, true);
      this.events.tokenRequest?.(this.kind, failure.transient ? 'failure' : 'rejected');
      const delay = failure.transient ? fullJitterDelay(this.failures, this.backoff.baseMs, this.backoff.capMs, this.random) : this.backoff.capMs;
      this.failed(failure.message, delay);
      throw this.unavailable(delay);
    }
  }

  private failed(cause: string, delayMs: number): void {
    const now = this.now();
    this.failures++;
    this.nextAttemptAt = now + delayMs;
    const changed = this.failures === 1 || this.lastError?.cause !== cause;
    this.lastError = { cause, at: now, wallClock: Date.now() };
    const fields = { kind: this.kind, endpoint: endpointOf(this.options.tokenUrl), cause, attempts: this.failures, nextAttemptInMs: Math.round(delayMs) };
    if (this.failures === 1) {
      this.outageStartedAt = now;
      this.lastSummaryAt = now;
      this.options.logger.warn(fields, 'token endpoint failing; retrying with backoff');
    } else if (changed) {
      this.lastSummaryAt = now;
      this.options.logger.warn(fields, 'token endpoint failing for another reason');
    } else if (now - this.lastSummaryAt >= this.summaryEveryMs) {
      this.lastSummaryAt = now;
      this.options.logger.warn({ ...fields, failingForMs: Math.round(now - this.outageStartedAt) }, 'token endpoint still failing');
    }
    this.schedule(delayMs);
  }

  private recovered(): void {
    if (this.failures > 0) {
      this.options.logger.info(
        { kind: this.kind, failedAttempts: this.failures, outageMs: Math.round(this.now() - this.outageStartedAt) },
        'token endpoint recovered',
      );
    }
    this.failures = 0;
    this.nextAttemptAt = null;
    // lastError stays: /readyz and the status page show the last failure, with no failures in a row since.
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextAttemptAt = null; // the scheduled attempt is the one the backoff was waiting for
      this.startFetch().catch(() => undefined); // logged and rescheduled in fetchOnce
    }, delayMs);
    this.timer.unref();
  }
}

/** The token endpoint as logs may show it: origin and path, never a query or userinfo. */
function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
