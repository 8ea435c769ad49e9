import { GatewayError } from '../errors.ts';

// Per-pipeline circuit breaker that judges Wallaroo, not callers. After `failureThreshold` consecutive unhealthy
// outcomes (transport errors, timeouts, 502/504, a 500 that is not about the caller's input) it opens: calls fail
// fast with GW_CIRCUIT_OPEN for `cooldownMs`. Then one call becomes the half-open probe — chosen when it is about
// to be sent, not when it arrived, so a caller dripping a small body cannot hold the half-open state. A probe that
// ends without a verdict (the caller left, bad input) frees the half-open state at once, and one still out after
// the probe bound (a streamed body dripping to Wallaroo) is given up: the next call probes instead.

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What one call says about Wallaroo's health. */
export type Verdict = 'healthy' | 'unhealthy' | 'neutral';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
  onStateChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  /** The current probe's number (0: none out), and when it was sent. */
  private probe = 0;
  private probes = 0;
  private probeSentAt = 0;
  private readonly now: () => number;

  constructor(
    readonly pipeline: string,
    private readonly options: BreakerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) return 'half-open';
    return this.current;
  }

  /** Before any work (the body is not read yet): fail fast while the cool-down runs. */
  assertNotOpen(): void {
    if (this.current !== 'closed' && this.state === 'open') throw this.openError();
  }

  /** A probe out longer than this is given up (at least a second, at least the cool-down). */
  private get probeBoundMs(): number {
    return Math.max(1_000, this.options.cooldownMs);
  }

  /**
   * When the call is about to be sent: admits it — as the probe when half-open (returns the probe's number; 0
   * for an ordinary call) — or throws GW_CIRCUIT_OPEN while open or while another probe is out.
   */
  enter(): number {
    if (this.current === 'closed') return 0;
    const state = this.state;
    const now = this.now();
    if (state === 'half-open' && (this.probe === 0 || now - this.probeSentAt > this.probeBoundMs)) {
      this.probe = ++this.probes;
      this.probeSentAt = now;
      if (this.current !== 'half-open') this.transition('half-open');
      return this.probe;
    }
    throw this.openError();
  }

  /** Records a call's outcome; `probe` as `enter` returned it (a given-up probe's verdict counts as ordinary). */
  record(verdict: Verdict, probe: number): void {
    const isProbe = probe !== 0 && probe === this.probe;
    if (isProbe) this.probe = 0;
    if (verdict === 'neutral') return;
    if (verdict === 'healthy') {
      this.failures = 0;
      if (this.current !== 'closed') this.transition('closed');
      return;
    }
    this.failures++;
    if (isProbe || (this.current === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private openError(): GatewayError {
    const waitMs = Math.max(0, this.options.cooldownMs - (this.now() - this.openedAt));
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    return new GatewayError('GW_CIRCUIT_OPEN', `pipeline ${this.pipeline}: Wallaroo failed ${this.options.failureThreshold} times in a row; failing fast for ${retryAfter} s`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }

  private transition(state: CircuitState): void {
    this.current = state;
    this.options.onStateChange?.(state);
  }
}
