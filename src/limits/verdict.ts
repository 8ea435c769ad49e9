import type { Verdict } from './breaker.ts';

// Which outcomes say Wallaroo is unhealthy, for the circuit breaker (docs/errors.md, "What opens the circuit
// breaker"). One caller's bad rows must never open the breaker for every caller: Wallaroo answers them with
// 400/409/422, and also with a 500 whose body says the inference on the given input failed (2024.2 records
// `{"status":"Error","error":"Error running inference: ..."}`). A 503 while a pipeline activates (scale from
// zero) is retried or passed on with Retry-After, not held against the pipeline.

/** A 500 body that blames the input: the engine ran and refused the caller's data. */
const CALLER_INPUT_500 = /error running inference|schema|tensor|shape|dtype|column|field|input|could not convert|invalid/i;
/** A 500 body that names a failure of Wallaroo itself, whatever else it says. */
const WALLAROO_500 = /internal processing error|out of memory|oom|unavailable|connection|timed? ?out|panic/i;

/** The verdict on an answer Wallaroo gave; `errorBody` is its (bounded) text for a 5xx, else ''. */
export function verdictOnAnswer(status: number, errorBody: string): Verdict {
  if (status < 400) return 'healthy';
  if (status === 502 || status === 504) return 'unhealthy';
  if (status === 500) {
    if (WALLAROO_500.test(errorBody)) return 'unhealthy';
    return CALLER_INPUT_500.test(errorBody) ? 'neutral' : 'unhealthy';
  }
  if (status > 500) return status === 503 ? 'neutral' : 'unhealthy';
  return 'neutral'; // 4xx: the caller's request, or its token; says nothing about Wallaroo's health
}
