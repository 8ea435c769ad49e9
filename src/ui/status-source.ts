// What the status page needs from the request path, as plain data: server.ts fills it from the parts it
// builds (breakers, concurrency limiters, the inflight count, the discovery cache, token managers, the last
// errors). Numbers the metrics already hold (rates, latencies, expiry) are read from the registry instead.

/** An error answer the gateway gave (or passed through from Wallaroo) for a pipeline. */
export interface PipelineError {
  /** Epoch milliseconds. */
  at: number;
  status: number;
  /** The gateway's GW_* code; null for an error status Wallaroo answered and the gateway passed on. */
  code: string | null;
  message: string;
}

export interface TokenError {
  /** Epoch milliseconds. */
  at: number;
  message: string;
}

export interface PipelineRuntime {
  name: string;
  /** Host of the inference URL in use (configured or discovered); null until discovered. */
  urlHost: string | null;
  /** Age of the discovered URL; null for a configured URL or none yet. */
  cacheAgeSeconds: number | null;
  breaker: 'closed' | 'open' | 'half-open';
  /** Requests in the gateway for this pipeline. */
  inflight: number;
  /** Concurrency slots taken (calls to Wallaroo under way). */
  active: number;
  /** Requests waiting for a slot. */
  queued: number;
  lastError: PipelineError | null;
  /** Batching figures by name (e.g. pending rows, last batch size) once batching exists; null: not batched. */
  batching: Record<string, number> | null;
}

export interface TokenRuntime {
  kind: 'inference' | 'mlops';
  /** A token is held and not past its expiry. */
  valid: boolean;
  lastError: TokenError | null;
}

export interface StatusSource {
  pipelines(): PipelineRuntime[];
  tokens(): TokenRuntime[];
  draining(): boolean;
}
