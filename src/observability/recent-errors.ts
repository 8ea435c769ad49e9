// The last error seen per pipeline and per token kind, for the status page. Keyed by configured names only
// (the access log records a pipeline once the route has matched a configured one), so it stays small.

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
  at: number;
  message: string;
}

const MESSAGE_LIMIT = 300;

export class RecentErrors {
  private readonly pipelines = new Map<string, PipelineError>();
  private readonly tokens = new Map<string, TokenError>();

  constructor(private readonly now: () => number = Date.now) {}

  recordPipeline(pipeline: string, error: Omit<PipelineError, 'at'>): void {
    this.pipelines.set(pipeline, { at: this.now(), ...error, message: error.message.slice(0, MESSAGE_LIMIT) });
  }

  recordToken(kind: string, message: string): void {
    this.tokens.set(kind, { at: this.now(), message: message.slice(0, MESSAGE_LIMIT) });
  }

  pipeline(name: string): PipelineError | null {
    return this.pipelines.get(name) ?? null;
  }

  token(kind: string): TokenError | null {
    return this.tokens.get(kind) ?? null;
  }
}
