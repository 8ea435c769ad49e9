/**
 * Retries are allowed only while they stay a small share of traffic: each request deposits `ratio` of a
 * token, each retry spends one, and `minPerSecond` tokens a second keep a trickle available when traffic is
 * light. Retry storms against a struggling Wallaroo are then impossible by construction.
 */
export class RetryBudget {
  private tokens: number;
  private lastRefill: number;

  constructor(
    private readonly ratio = 0.2,
    private readonly minPerSecond = 3,
    private readonly cap = 50,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = minPerSecond;
    this.lastRefill = this.now();
  }

  recordRequest(): void {
    // Rounded so fifty deposits of 0.2 make ten tokens, not 9.999...
    this.tokens = Math.min(this.cap, Math.round((this.tokens + this.ratio) * 1e9) / 1e9);
  }

  tryRetry(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.cap, this.tokens + ((now - this.lastRefill) / 1000) * this.minPerSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Connect-phase failures: the request never left the gateway, so sending it again cannot duplicate work. */
const NOTHING_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function failedBeforeSending(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code !== undefined && NOTHING_SENT.has(code);
}
