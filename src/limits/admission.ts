import type { Bounds } from '../http/deadline.ts';
import type { CircuitBreaker, Verdict } from './breaker.ts';
import type { BufferBudget, BufferReservation } from './buffer-budget.ts';
import type { ConcurrencyLimiter } from './concurrency.ts';
import type { RetryBudget } from './retry-budget.ts';

// The admission gate of one pipeline, the same for the inference and the OpenAI routes. In request order:
// `beforeBody` fails fast while the breaker is open and opens the request's share of the buffer budget;
// `slot` (once the body is in) waits for a concurrency slot within the request's bounds and makes the call the
// breaker's half-open probe when it is due; the slot's `judge` records what the call said about Wallaroo and
// `release` frees the slot when the answer has gone out.

export interface PipelineSlot {
  readonly retryBudget: RetryBudget;
  /** Records the call's verdict (once; later calls are ignored). */
  judge(verdict: Verdict): void;
  /** Frees the concurrency slot (once); judges `neutral` if nothing was judged. */
  release(): void;
}

export class AdmissionGate {
  constructor(
    readonly pipeline: string,
    readonly breaker: CircuitBreaker,
    readonly concurrency: ConcurrencyLimiter,
    readonly retryBudget: RetryBudget,
    private readonly buffers: BufferBudget,
  ) {}

  /** Throws GW_CIRCUIT_OPEN while the cool-down runs; otherwise the request's (empty) buffer reservation. */
  beforeBody(): BufferReservation {
    this.breaker.assertNotOpen();
    return this.buffers.open();
  }

  async slot(bounds: Bounds): Promise<PipelineSlot> {
    const release = await this.concurrency.acquire(bounds);
    let probe: number;
    try {
      probe = this.breaker.enter();
    } catch (error) {
      release();
      throw error;
    }
    this.retryBudget.recordRequest();
    let judged = false;
    const { breaker } = this;
    const judge = (verdict: Verdict) => {
      if (judged) return;
      judged = true;
      breaker.record(verdict, probe);
    };
    return {
      retryBudget: this.retryBudget,
      judge,
      release: () => {
        judge('neutral');
        release();
      },
    };
  }
}
