import { GatewayError } from '../errors.ts';
import { type Bounds, endedBecause } from '../http/deadline.ts';

// At most `max` requests in flight to Wallaroo for one pipeline; up to `maxQueue` more wait in order, each no
// longer than its own bounds. Beyond that the caller gets GW_OVERLOADED (503 + Retry-After) at once: a queue
// without a bound only turns overload into timeouts and memory. A caller that leaves while queued leaves the
// queue at once, and one that left before asking never enters it.

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  fail: (error: GatewayError) => void;
}

export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting = new Set<Waiter>();

  constructor(
    readonly pipeline: string,
    readonly max: number,
    readonly maxQueue: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.size;
  }

  acquire(bounds: Bounds): Promise<Release> {
    const onDeadline = () => this.overloaded('no slot before the request deadline');
    if (bounds.signal.aborted) return Promise.reject(endedBecause(bounds, onDeadline));
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.size >= this.maxQueue) {
      return Promise.reject(this.overloaded(`${this.max} in flight and ${this.waiting.size} queued`));
    }
    return new Promise<Release>((resolve, reject) => {
      const { signal } = bounds;
      const onAbort = () => waiter.fail(endedBecause(bounds, onDeadline));
      const waiter: Waiter = {
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          this.waiting.delete(waiter);
          resolve(release);
        },
        fail: (error) => {
          signal.removeEventListener('abort', onAbort);
          this.waiting.delete(waiter);
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(waiter);
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
      // The slot passes straight to the longest waiter (a Set iterates in insertion order).
      const next = this.waiting.values().next();
      if (!next.done) next.value.grant(this.releaser());
      else this.active--;
    };
  }
}
