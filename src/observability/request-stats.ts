// The facts one request gathers on its way for its log line, its metrics (and its span): written by the request
// path, read once when the answer has gone out.

declare module 'fastify' {
  interface FastifyRequest {
    stats: RequestStats;
  }
  interface FastifyContextConfig {
    route?: string;
  }
}

/** Per-request facts for the one log line and the metrics. */
export interface RequestStats {
  route: string;
  pipeline?: string;
  upstreamStatus?: number;
  upstreamMs?: number;
  conversionMs?: number;
  /** Engine time Wallaroo reported in metadata.elapsed. */
  engineMs?: number;
  /** Time to the first byte of a streamed (SSE) answer. */
  firstByteMs?: number;
  bytesIn?: number;
  bytesOut?: number;
  replays?: string[];
  /** The micro-batch that carried the request (batching on), and how many requests it held. */
  batchId?: string;
  batchSize?: number;
  retries?: number;
  /** The gateway's error, when it answered with one (or Wallaroo's, for a 5xx it passed on). */
  error?: { code: string; message: string };
}
