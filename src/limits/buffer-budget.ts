import { GatewayError } from '../errors.ts';

// One process-wide budget of bytes held in memory for requests: bodies kept for a replay or a conversion, and
// answers read whole. A request reserves before it reads, so a burst of large uploads meets a 503 rather than
// the pod's memory limit (100 concurrent 8 MiB bodies held ~960 MB before this existed).

export class BufferBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** A reservation for one request, released in full with `release()`. */
  open(): BufferReservation {
    return new BufferReservation(this);
  }

  /** Takes `bytes` if they fit; false otherwise. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

export class BufferReservation {
  private held = 0;

  constructor(private readonly budget: BufferBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** The whole process budget (server.bufferBudget): a reservation can never grow past it. */
  get limit(): number {
    return this.budget.limit;
  }

  /** Grows the reservation to `total` bytes, or throws GW_OVERLOADED when the process budget has no room. */
  growTo(total: number): void {
    if (total <= this.held) return;
    if (!this.tryGrowTo(total)) {
      throw new GatewayError('GW_OVERLOADED', `the gateway holds ${this.budget.inUse} bytes of request and answer data (server.bufferBudget ${this.budget.limit}); retry shortly`, {
        headers: { 'retry-after': '1' },
      });
    }
  }

  /** Like growTo, but says false instead of throwing (for data that is only nice to keep, such as replay copies). */
  tryGrowTo(total: number): boolean {
    if (total <= this.held) return true;
    if (!this.budget.tryTake(total - this.held)) return false;
    this.held = total;
    return true;
  }

  /** Sets the reservation to `total` bytes: shrinks it (what is really held after a conversion), or grows it as growTo. */
  resizeTo(total: number): void {
    if (total >= this.held) {
      this.growTo(total);
      return;
    }
    this.budget.give(this.held - total);
    this.held = total;
  }

  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }
}
