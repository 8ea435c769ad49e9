// The engine's cost, modelled so batching's benefit is measured rather than assumed: every call holds one of a
// limited number of engine workers for a fixed per-call overhead plus a per-row cost; calls beyond the workers
// wait in order. Off unless asked for (tests and the demo answer at once); `npm run bench batching` turns it on.
// The defaults and their reasoning are in README ("The simulator").

export interface EngineCostModel {
  /** Time one call holds a worker whatever its size: HTTP parsing, the Envoy hop, the engine's dispatch, building the DataFrame. */
  callOverheadMs: number;
  /** Time each row adds to a call (the model itself; ccfraud is a small dense network). */
  rowCostMs: number;
  /** Calls the engine runs at once (replicas x engine threads); later calls queue. */
  workers: number;
}

/** 8 ms per call, 0.05 ms per row, 4 workers: a 64-row DataFrame costs 11.2 ms against 8.05 ms for one row. */
export const DEFAULT_ENGINE_COST: Readonly<EngineCostModel> = Object.freeze({ callOverheadMs: 8, rowCostMs: 0.05, workers: 4 });

/** The engine's workers: `run(rows)` resolves when a worker has spent the call's cost on it. */
export class EngineQueue {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly cost: Readonly<EngineCostModel>) {}

  /** Calls waiting for a worker. */
  get queued(): number {
    return this.waiting.length;
  }

  async run(rows: number): Promise<void> {
    if (this.busy >= this.cost.workers) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.busy++;
    try {
      await new Promise<void>((resolve) => setTimeout(resolve, this.cost.callOverheadMs + rows * this.cost.rowCostMs));
    } finally {
      // The worker passes straight to the longest waiter.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }
}
