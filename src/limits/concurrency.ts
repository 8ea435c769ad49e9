import { GatewayError } from '../errors.ts';

/**
 * At most `max` requests in flight to Wallaroo for one pipeline; up to `maxQueue` more wait in order. Beyond
 * that, or after waiting `waitMs`, the caller gets GW_OVERLOADED (503 + Retry-After) at once: a queue without
 * a bound only turns overload into timeouts and memory.
 */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  fail: (error: GatewayError) => void;
}

export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly pipeline: string,
    readonly max: number,
    readonly maxQueue: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  acquire(signal: AbortSignal, waitMs: number): Promise<Release> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(this.overloaded(`${this.max} in flight and ${this.waiting.length} queued`));
    }
    return new Promise<Release>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
        fail: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(new GatewayError('GW_BAD_REQUEST', 'the caller closed the connection while queued'));
      const timer = setTimeout(() => waiter.fail(this.overloaded(`no slot within ${waitMs} ms`)), waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private overloaded(detail: string): GatewayError {
    return new GatewayError('GW_OVERLOADED', `pipeline ${this.pipeline} is at maxConcurrency (${detail})`, { headers: { 'retry-after': '1' } });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant(this.releaser()); // the slot passes straight to the next in line
      else this.active--;
    };
  }
}
