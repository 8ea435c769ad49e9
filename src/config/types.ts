// The validated, normalised configuration every room reads. Types (and plain default values) only: importing
// them pulls in no parser, schema or validator (load.ts does the parsing).
/** A secret given inline (from the environment, usually) or as a mounted file re-read at every use. */
export type SecretRef = { readonly source: 'inline'; readonly value: string } | { readonly source: 'file'; readonly path: string };

export interface RateLimitRule {
  max: number;
  timeWindowMs: number;
}

export interface PipelineConfig {
  name: string;
  workspace: string | number | null;
  pipeline: string;
  url: string | null;
  timeoutMs: number;
  connectTimeoutMs: number;
  upstreamFormat: 'passthrough' | 'arrow' | 'json';
  inputSchema: Record<string, string> | null;
  rateLimit: RateLimitRule | null;
  maxConcurrency: number;
  maxQueue: number;
  /** Retries of connect-phase failures only (nothing was sent), within a retry budget. */
  maxRetries: number;
  circuitBreaker: { failureThreshold: number; cooldownMs: number };
}

export interface GatewayConfig {
  server: {
    host: string;
    port: number;
    bodyLimit: number;
    /** Body limit of the OpenAI-compatible routes: chat and completion requests are small. */
    openAiBodyLimit: number;
    bodyTimeoutMs: number;
    shutdownGraceMs: number;
    maxEventLoopDelayMs: number;
  };
  wallaroo: {
    url: string;
    origin: string;
    tls: { caFile: string | null; rejectUnauthorized: boolean };
    auth: { tokenUrl: string; clientId: string; clientSecret: SecretRef; refreshBeforeExpirySeconds: number };
    mlops: { clientId: string; username: string; password: SecretRef } | null;
  };
  discovery: { ttlSeconds: number; maxEntries: number };
  pipelines: PipelineConfig[];
  rateLimit: {
    store: 'memory' | 'redis';
    redisUrl: SecretRef | null;
    keyBy: { kind: 'ip' } | { kind: 'header'; header: string };
    default: RateLimitRule | null;
    failOpen: boolean;
    redisTimeoutMs: number;
  };
  logging: { level: string };
  metrics: { port: number | null; host: string };
  conversion: ConversionLimits;
}

/** Budgets on every whole-body parse and conversion (SECURITY.md, "Budgets"). */
export interface ConversionLimits {
  /** Fields of one table, nested ones counted (Arrow schemas, JSON keys). */
  maxColumns: number;
  /** Nesting of arrays and objects in a JSON body, the body's own array or object counted. */
  maxJsonDepth: number;
  /** Arrays and objects in one JSON body, counted before it is parsed. */
  maxJsonContainers: number;
  /** Values one conversion may hold: every Arrow value (list items, nulls of fixed-size lists at full size, dictionary values as often as they are used). */
  maxElements: number;
  /** Bytes one conversion may write (JSON text or Arrow IPC). */
  maxOutputBytes: number;
}

export const DEFAULT_CONVERSION_LIMITS: Readonly<ConversionLimits> = Object.freeze({
  maxColumns: 1000,
  maxJsonDepth: 32,
  maxJsonContainers: 4 * 1024 * 1024,
  maxElements: 32 * 1024 * 1024,
  maxOutputBytes: 256 * 1024 * 1024,
});

export const DEFAULT_OPENAI_BODY_LIMIT = 1024 * 1024;
