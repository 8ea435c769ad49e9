import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWTHeaderParameters } from 'jose';

// The token issuer's public keys, held locally so no request waits on the network: fetched at start (and retried
// every `minRefreshMs` until that succeeds), refreshed in the background, and refreshed early when a token names
// a key not held (a rotation), at most once per `minRefreshMs` however many such tokens arrive. A failed fetch keeps the keys already held; a fetch that does
// not answer is abandoned after `timeoutMs`, so a request never waits longer than that for keys.

/** Fetches the raw JWKS document (parsed JSON); honours `signal`. */
export type KeyLoader = (signal: AbortSignal) => Promise<unknown>;

/** The issuer's keys are needed and could not be fetched: 503, not 401 (the token may well be valid). */
export class KeysUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeysUnavailableError';
  }
}

export interface IssuerKeysOptions {
  load: KeyLoader;
  /** A fetch not finished after this long fails (and waiting requests get their answer). */
  timeoutMs: number;
  /** Least time between two fetches prompted by unknown keys or by having none. */
  minRefreshMs: number;
  /** Background refresh period: picks up removed keys, and new ones before tokens use them. */
  refreshMs: number;
  /** Monotonic milliseconds. */
  now?: () => number;
  onFetch?(result: 'success' | 'failure', error: Error | null): void;
  /** The key set changed: anything verified with the old keys should be verified again. */
  onChange?(): void;
}

/** Bounds on what an issuer may send: Kubernetes publishes one to a few keys. */
const MAX_KEYS = 100;
const SIGNING_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/** The verification keys of a JWKS document: public signing keys only, at most MAX_KEYS; throws when none. */
export function signingKeys(document: unknown): JSONWebKeySet {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('the JWKS document has no "keys" array');
  const usable = keys.filter((key): key is JWK => {
    if (key === null || typeof key !== 'object') return false;
    const { kty, use, d } = key as JWK;
    return typeof kty === 'string' && SIGNING_KEY_TYPES.has(kty) && (use === undefined || use === 'sig') && d === undefined;
  });
  if (usable.length === 0) throw new Error('the JWKS document has no public signing keys');
  if (usable.length > MAX_KEYS) throw new Error(`the JWKS document has ${usable.length} signing keys (at most ${MAX_KEYS} are accepted)`);
  return { keys: usable };
}

type LocalKeys = ReturnType<typeof createLocalJWKSet>;

export class IssuerKeys {
  private local: LocalKeys | null = null;
  private fingerprint = '';
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private lastFetchFailed = false;
  private pending: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The next attempt while no keys are held yet. */
  private retry: NodeJS.Timeout | null = null;
  private started = false;
  /** Aborts the fetch under way, if any. */
  private abortFetch: (() => void) | null = null;
  private readonly now: () => number;

  constructor(private readonly options: IssuerKeysOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Keys are held (fetched at least once). */
  get ready(): boolean {
    return this.local !== null;
  }

  /** The first fetch, then one every `refreshMs` (the timer never holds the process open). */
  start(): void {
    this.started = true;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs).unref();
  }

  /** Stops the timers and abandons a fetch under way (shutdown never waits on the issuer). */
  close(): void {
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = this.retry = null;
    this.abortFetch?.();
  }

  /**
   * jose's key lookup for a token's header. A kid not held prompts one refresh when the last fetch is at least
   * `minRefreshMs` old (or joins the one under way); otherwise the answer is immediate.
   */
  readonly keyFor = async (header: JWTHeaderParameters, token: FlattenedJWSInput): ReturnType<LocalKeys> => {
    if (!this.local) {
      await this.refreshIfAllowed();
      if (!this.local) throw new KeysUnavailableError("the token issuer's keys have not been fetched yet; retry shortly");
    }
    try {
      return await this.local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const refreshed = await this.refreshIfAllowed();
      // No fetch may be made now, and the last one failed: the key may exist, the gateway cannot tell.
      if (this.lastFetchFailed) throw new KeysUnavailableError("the token names a signing key the gateway does not hold, and the issuer's keys could not be fetched; retry shortly");
      if (!refreshed) throw error;
      return this.local(header, token);
    }
  };

  /** Fetches now unless a fetch is under way (joined) or the last one is younger than `minRefreshMs`; true if one ran. */
  private async refreshIfAllowed(): Promise<boolean> {
    if (this.pending !== null) {
      await this.pending;
      return true;
    }
    if (this.now() - this.lastFetchAt < this.options.minRefreshMs) return false;
    await this.refresh();
    return true;
  }

  /** One fetch at a time; never rejects (a failure is recorded and the keys held are kept). */
  refresh(): Promise<void> {
    if (this.pending !== null) return this.pending;
    this.lastFetchAt = this.now();
    this.pending = this.fetchOnce().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetchOnce(): Promise<void> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Raced rather than trusted to the loader: a loader that ignored its signal must not hold requests.
    const timeout = new Promise<never>((_resolve, reject) => {
      const fail = (error: Error) => {
        controller.abort(error);
        reject(error);
      };
      this.abortFetch = () => fail(new Error('the gateway is closing'));
      timer = setTimeout(() => fail(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    try {
      const document = await Promise.race([this.options.load(controller.signal), timeout]);
      this.install(signingKeys(document));
      this.lastFetchFailed = false;
      this.options.onFetch?.('success', null);
    } catch (error) {
      this.lastFetchFailed = true;
      this.options.onFetch?.('failure', error instanceof Error ? error : new Error(String(error)));
      // Not ready without keys: try again soon rather than at the next background refresh, minutes away.
      if (!this.local && this.started && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = null;
          void this.refresh();
        }, this.options.minRefreshMs);
        this.retry.unref();
      }
    } finally {
      clearTimeout(timer);
      this.abortFetch = null;
    }
  }

  private install(jwks: JSONWebKeySet): void {
    const fingerprint = JSON.stringify(jwks.keys);
    if (fingerprint === this.fingerprint && this.local) return;
    this.local = createLocalJWKSet(jwks); // throws on a malformed key: the set held is kept
    const changed = this.fingerprint !== '';
    this.fingerprint = fingerprint;
    if (changed) this.options.onChange?.();
  }
}
