import { GatewayError } from '../errors.ts';

/**
 * Per-pipeline circuit breaker. After `failureThreshold` consecutive upstream failures (5xx, timeouts,
 * connection errors) it opens: calls fail fast with GW_CIRCUIT_OPEN for `cooldownMs`. Then it lets one probe
 * through (half-open): success closes it, failure opens it again.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

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
  private probing = false;
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

  /** Admits a call or throws GW_CIRCUIT_OPEN. Returns whether this call is the half-open probe. */
  admit(): { probe: boolean } {
    const state = this.state;
    if (state === 'closed') return { probe: false };
    if (state === 'half-open' && !this.probing) {
      this.probing = true;
      this.transition('half-open');
      return { probe: true };
    }
    const waitMs = Math.max(0, this.options.cooldownMs - (this.now() - this.openedAt));
    throw new GatewayError('GW_CIRCUIT_OPEN', `pipeline ${this.pipeline}: ${this.options.failureThreshold} consecutive upstream failures; failing fast for ${Math.ceil(waitMs / 1000)} s`, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
    });
  }

  success(probe: boolean): void {
    this.failures = 0;
    if (probe) this.probing = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  failure(probe: boolean): void {
    if (probe) this.probing = false;
    this.failures++;
    if (probe || (this.current === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  /** A call that was admitted but never reached Wallaroo (bad input, caller gone): it proves nothing. */
  abandon(probe: boolean): void {
    if (probe) this.probing = false;
  }

  private transition(state: CircuitState): void {
    this.current = state;
    this.options.onStateChange?.(state);
  }
}
