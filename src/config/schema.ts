// The one schema of the config file (SPEC.md "Config"). Every object is closed (unknown keys are errors) and
// carries its defaults, so the validated tree is complete. Units are normalised afterwards (load.ts).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DEFAULT_CONVERSION_LIMITS as CONVERSION, DEFAULT_OPENAI_BODY_LIMIT, DEFAULT_OPENAI_EVENT_LIMIT, DEFAULT_OPENAI_STREAM_TIMEOUT_MS } from './types.ts';
import { DURATION_PATTERN, SIZE_PATTERN } from './units.ts';

const closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T, defaults: unknown = {}) =>
  Type.Object(properties, { additionalProperties: false, default: defaults });

// A type array rather than anyOf: with Ajv's coercion, anyOf [integer, null] would turn null into 0.
const Nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [(schema as { type?: string }).type, 'null'], default: null });
const Size = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })]);
const Duration = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: DURATION_PATTERN })]);
const NonEmpty = Type.String({ minLength: 1 });

export const PIPELINE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';

const RateLimitRule = Type.Object(
  { max: Type.Integer({ minimum: 1 }), timeWindow: Duration },
  { additionalProperties: false },
);

const PipelineSchema = Type.Object(
  {
    name: Type.String({ pattern: PIPELINE_NAME_PATTERN }),
    // Integer first: a number (or a numeric string from the environment) is a workspace id, anything else a name.
    workspace: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), NonEmpty])),
    pipeline: Type.Optional(NonEmpty),
    url: Nullable(NonEmpty),
    timeoutMs: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 30_000 }),
    connectTimeoutMs: Type.Integer({ minimum: 1, maximum: 600_000, default: 5_000 }),
    upstreamFormat: Type.Union([Type.Literal('passthrough'), Type.Literal('arrow'), Type.Literal('json')], {
      default: 'passthrough',
    }),
    inputSchema: Nullable(Type.Record(Type.String({ minLength: 1 }), NonEmpty)),
    rateLimit: Nullable(RateLimitRule),
    maxConcurrency: Type.Integer({ minimum: 1, default: 64 }),
    maxQueue: Type.Integer({ minimum: 0, default: 256 }),
    maxRetries: Type.Integer({ minimum: 0, maximum: 5, default: 2 }),
    // Who may call this pipeline (callers.authentication on); absent: callers.allow.
    allow: Type.Optional(Type.Array(NonEmpty, { maxItems: 1000 })),
    circuitBreaker: Type.Object(
      {
        failureThreshold: Type.Integer({ minimum: 1, default: 5 }),
        cooldownMs: Type.Integer({ minimum: 1, default: 10_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    // A pandas-records body shown (and sent by "Try it out") in the pipeline's OpenAPI document and Swagger UI.
    example: Nullable(Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 100 })),
    // Dynamic micro-batching (README, "Micro-batching"): one-row callers share one Wallaroo call. Absent: off.
    batching: Nullable(
      Type.Object(
        {
          maxRows: Type.Integer({ minimum: 1, maximum: 100_000, default: 64 }),
          maxDelayMs: Type.Integer({ minimum: 0, maximum: 10_000, default: 2 }),
          maxBytes: Type.Union([Size], { default: '4MiB' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    server: closed({
      host: Type.String({ default: '0.0.0.0' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
      bodyLimit: Type.Union([Size], { default: '64MiB' }),
      openAiBodyLimit: Type.Union([Size], { default: DEFAULT_OPENAI_BODY_LIMIT }),
      // Streamed OpenAI answers: a total bound (keep-alive comments defeat an idle one) and a bound on one event.
      openAiStreamTimeoutMs: Type.Integer({ minimum: 1, maximum: 86_400_000, default: DEFAULT_OPENAI_STREAM_TIMEOUT_MS }),
      openAiEventLimit: Type.Union([Size], { default: DEFAULT_OPENAI_EVENT_LIMIT }),
      bodyTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
      // A caller whose request line and headers have not all arrived by then gets 408 (a header slow-loris).
      headersTimeoutMs: Type.Integer({ minimum: 1, default: 10_000 }),
      shutdownGraceMs: Type.Integer({ minimum: 0, default: 25_000 }),
      // Ready turns 503 at SIGTERM, the listener stays open this long (endpoint removal), then the drain begins.
      drainDelayMs: Type.Integer({ minimum: 0, default: 5_000 }),
      // Bytes all requests together may hold in memory (bodies kept for replay or conversion, answers read whole).
      bufferBudget: Type.Union([Size], { default: '256MiB' }),
      maxEventLoopDelayMs: Type.Integer({ minimum: 0, default: 1_000 }),
      // Proxies whose X-Forwarded-For is believed (addresses, CIDRs, or loopback/linklocal/uniquelocal).
      trustProxy: Type.Array(NonEmpty, { default: [] }),
      // Serve HTTPS with these PEM files (re-read when they change); null: plain HTTP.
      tls: Nullable(Type.Object({ certFile: NonEmpty, keyFile: NonEmpty }, { additionalProperties: false })),
    }),
    wallaroo: Type.Object(
      {
        url: Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$' }),
        // Plain http beyond loopback and tls.rejectUnauthorized: false are refused unless this is true (a lab).
        allowInsecure: Type.Boolean({ default: false }),
        tls: closed({
          caFile: Nullable(NonEmpty),
          rejectUnauthorized: Type.Boolean({ default: true }),
        }),
        auth: closed({
          tokenUrl: Nullable(Type.String({ pattern: '^https?://' })),
          clientId: Type.String({ minLength: 1, default: 'api-client' }),
          clientSecret: Type.Optional(Type.String()),
          clientSecretFile: Type.Optional(NonEmpty),
          refreshBeforeExpirySeconds: Type.Integer({ minimum: 0, default: 60 }),
          requestTimeoutMs: Type.Integer({ minimum: 1, maximum: 120_000, default: 5_000 }),
        }),
        mlops: Nullable(
          Type.Object(
            {
              // Default: the inference client (the confidential client, with its secret), as Wallaroo documents.
              clientId: Type.Optional(Type.String({ minLength: 1 })),
              clientSecret: Type.Optional(Type.String()),
              clientSecretFile: Type.Optional(NonEmpty),
              username: NonEmpty,
              password: Type.Optional(Type.String()),
              passwordFile: Type.Optional(NonEmpty),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    discovery: closed({
      ttlSeconds: Type.Integer({ minimum: 1, default: 300 }),
      maxEntries: Type.Integer({ minimum: 1, default: 1000 }),
      // A failed lookup is remembered this long: requests for it fail fast instead of each calling the MLOps API.
      negativeTtlSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 5 }),
      // One lookup (its MLOps calls together); callers wait no longer than their own pipeline timeout.
      timeoutMs: Type.Integer({ minimum: 1, maximum: 120_000, default: 10_000 }),
    }),
    pipelines: Type.Array(PipelineSchema, { minItems: 1 }),
    rateLimit: closed({
      store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], { default: 'memory' }),
      redisUrl: Nullable(Type.String({ pattern: '^rediss?://' })),
      redisUrlFile: Type.Optional(NonEmpty),
      keyBy: Type.String({ pattern: '^(ip|identity|header:[A-Za-z0-9!#$%&\'*+.^_`|~-]+)$', default: 'ip' }),
      default: Nullable(RateLimitRule),
      failOpen: Type.Boolean({ default: true }),
      redisTimeoutMs: Type.Integer({ minimum: 1, default: 200 }),
    }),
    callers: closed({
      authentication: Type.Union([Type.Literal('none'), Type.Literal('kubernetes'), Type.Literal('mtls')], { default: 'none' }),
      allow: Type.Array(NonEmpty, { maxItems: 1000, default: ['*'] }),
      identityMetricLabel: Type.Boolean({ default: false }),
      kubernetes: Nullable(
        Type.Object(
          {
            issuer: NonEmpty,
            audience: Type.String({ minLength: 1, default: 'wallaroo-gateway' }),
            jwksUrl: Nullable(Type.String({ pattern: '^https?://' })),
            jwksFile: Nullable(NonEmpty),
            caFile: Nullable(NonEmpty),
            bearerTokenFile: Nullable(NonEmpty),
            clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
            keysRefreshSeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 300 }),
            keysMinRefreshSeconds: Type.Integer({ minimum: 1, maximum: 3_600, default: 5 }),
            keysTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 3_000 }),
          },
          { additionalProperties: false },
        ),
      ),
      mtls: Nullable(Type.Object({ caFile: NonEmpty }, { additionalProperties: false })),
    }),
    logging: closed({
      level: Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
        { default: 'info' },
      ),
    }),
    metrics: closed({
      port: Nullable(Type.Integer({ minimum: 0, maximum: 65535 })),
      host: Type.String({ default: '0.0.0.0' }),
    }),
    conversion: closed({
      maxColumns: Type.Integer({ minimum: 1, default: CONVERSION.maxColumns }),
      maxJsonDepth: Type.Integer({ minimum: 2, maximum: 1000, default: CONVERSION.maxJsonDepth }),
      maxJsonContainers: Type.Integer({ minimum: 1, default: CONVERSION.maxJsonContainers }),
      maxElements: Type.Integer({ minimum: 1, default: CONVERSION.maxElements }),
      maxOutputBytes: Type.Union([Size], { default: CONVERSION.maxOutputBytes }),
    }),
    ui: closed({
      enabled: Type.Boolean({ default: true }),
      port: Type.Union([Type.Literal('main'), Type.Literal('metrics')], { default: 'main' }),
    }),
    tracing: closed({
      enabled: Type.Boolean({ default: false }),
      endpoint: Type.String({ pattern: '^https?://[^\\s]+$', default: 'http://127.0.0.1:4318/v1/traces' }),
      serviceName: Type.String({ minLength: 1, default: 'wallaroo-gateway' }),
      sampleRatio: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
      maxQueueSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 2048 }),
      maxExportBatchSize: Type.Integer({ minimum: 1, default: 512 }),
      exportIntervalMs: Type.Integer({ minimum: 1, default: 5_000 }),
      exportTimeoutMs: Type.Integer({ minimum: 1, default: 10_000 }),
    }),
  },
  { additionalProperties: false },
);

export type RawConfig = Static<typeof ConfigSchema>;
export type RawPipeline = Static<typeof PipelineSchema>;
