import type { PipelineConfig } from '../config/types.ts';
import { AdmissionGate } from './admission.ts';
import { type CircuitState, CircuitBreaker } from './breaker.ts';
import type { BufferBudget } from './buffer-budget.ts';
import { ConcurrencyLimiter } from './concurrency.ts';
import { RetryBudget } from './retry-budget.ts';

export { AdmissionGate, type PipelineSlot } from './admission.ts';
export { BufferBudget } from './buffer-budget.ts';
export type { CircuitState, Verdict } from './breaker.ts';

/** One admission gate per pipeline, built once at start. */
export function createGates(
  pipelines: readonly PipelineConfig[],
  buffers: BufferBudget,
  onBreakerChange: (pipeline: string, state: CircuitState) => void,
): Map<string, AdmissionGate> {
  return new Map(
    pipelines.map((p) => [
      p.name,
      new AdmissionGate(
        p.name,
        new CircuitBreaker(p.name, { ...p.circuitBreaker, onStateChange: (state) => onBreakerChange(p.name, state) }),
        new ConcurrencyLimiter(p.name, p.maxConcurrency, p.maxQueue),
        new RetryBudget(),
        buffers,
      ),
    ]),
  );
}
