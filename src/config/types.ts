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
  /** A pandas-records body for the OpenAPI document and Swagger UI's "Try it out"; null: one derived from inputSchema. */
  example: Array<Record<string, unknown>> | null;
  /** The allow list in force (the pipeline's, else callers.allow) when callers.authentication is on; else null. */
  allow: string[] | null;
  /** Dynamic micro-batching of this pipeline's requests; null: off. */
  batching: BatchingConfig | null;
}

/** pipelines[].batching: requests that can share a Wallaroo call wait up to maxDelayMs for each other. */
export interface BatchingConfig {
  /** A batch is sent once it holds this many rows. */
  maxRows: number;
  /** The longest a request waits for others before its batch is sent. */
  maxDelayMs: number;
  /** A batch is sent once its bodies hold this many bytes. */
  maxBytes: number;
}

export interface TracingConfig {
  enabled: boolean;
  /** OTLP/HTTP (protobuf) traces endpoint, e.g. http://otel-collector:4318/v1/traces. */
  endpoint: string;
  serviceName: string;
  /** Share of new traces recorded (0..1); a caller's sampled flag is followed. */
  sampleRatio: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  exportIntervalMs: number;
  exportTimeoutMs: number;
}

/** callers.kubernetes: projected service-account tokens verified locally against the issuer's keys. */
export interface KubernetesCallersConfig {
  issuer: string;
  audience: string;
  /** Where the keys come from: the issuer's OIDC discovery document (its URL here), a JWKS URL, or a mounted JWKS file. */
  keys: { source: 'discovery'; url: string } | { source: 'url'; url: string } | { source: 'file'; path: string };
  caFile: string | null;
  bearerTokenFile: string | null;
  clockSkewSeconds: number;
  keysRefreshMs: number;
  keysMinRefreshMs: number;
  keysTimeoutMs: number;
}

export interface CallersConfig {
  authentication: 'none' | 'kubernetes' | 'mtls';
  identityMetricLabel: boolean;
  kubernetes: KubernetesCallersConfig | null;
  mtls: { caFile: string } | null;
}

export interface GatewayConfig {
  server: {
    host: string;
    port: number;
    bodyLimit: number;
    /** Body limit of the OpenAI-compatible routes: chat and completion requests are small. */
    openAiBodyLimit: number;
    /** A streamed (SSE) OpenAI answer is ended with an error event this long after its headers: keep-alive comments
     * reset the idle bound, so only a total bound ends a stream that never finishes. */
    openAiStreamTimeoutMs: number;
    /** Largest SSE event (its lines together) relayed from Wallaroo; a larger one ends the stream with an error event. */
    openAiEventLimit: number;
    bodyTimeoutMs: number;
    headersTimeoutMs: number;
    shutdownGraceMs: number;
    drainDelayMs: number;
    bufferBudget: number;
    maxEventLoopDelayMs: number;
    /** Proxies whose X-Forwarded-For names the client (Fastify's trustProxy); empty: the socket's peer is the client. */
    trustProxy: string[];
    tls: { certFile: string; keyFile: string } | null;
  };
  wallaroo: {
    url: string;
    origin: string;
    /** Plain http to a non-loopback Wallaroo or token endpoint, or unverified TLS, explicitly allowed (warned at start). */
    allowInsecure: boolean;
    tls: { caFile: string | null; rejectUnauthorized: boolean };
    auth: { tokenUrl: string; clientId: string; clientSecret: SecretRef; refreshBeforeExpirySeconds: number; requestTimeoutMs: number };
    /** User credentials for the MLOps API; `clientSecret` null means a public client such as `sdk-client`. */
    mlops: { clientId: string; clientSecret: SecretRef | null; username: string; password: SecretRef } | null;
  };
  discovery: { ttlSeconds: number; maxEntries: number; negativeTtlSeconds: number; timeoutMs: number };
  pipelines: PipelineConfig[];
  rateLimit: {
    store: 'memory' | 'redis';
    redisUrl: SecretRef | null;
    keyBy: { kind: 'ip' } | { kind: 'header'; header: string } | { kind: 'identity' };
    default: RateLimitRule | null;
    failOpen: boolean;
    redisTimeoutMs: number;
  };
  callers: CallersConfig;
  logging: { level: string };
  metrics: { port: number | null; host: string };
  conversion: ConversionLimits;
  /** The status page (GET /, GET /status.json) and Swagger UI (GET /docs). */
  ui: { enabled: boolean; port: 'main' | 'metrics' };
  tracing: TracingConfig;
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
/** 10 minutes: several thousand tokens at a slow model's pace, far past any honest completion. */
export const DEFAULT_OPENAI_STREAM_TIMEOUT_MS = 600_000;
/** 1 MiB: an OpenAI chunk carries a few tokens (a few hundred bytes); a whole long answer in one event still fits. */
export const DEFAULT_OPENAI_EVENT_LIMIT = 1024 * 1024;
