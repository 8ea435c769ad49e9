import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DEFAULT_CONVERSION_LIMITS as CONVERSION, DEFAULT_OPENAI_BODY_LIMIT } from './types.ts';
import { DURATION_PATTERN, SIZE_PATTERN } from './units.ts';

/**
 * The one schema of the config file (SPEC.md "Config"). Every object is closed (unknown keys are errors) and
 * carries its defaults, so the validated tree is complete. Units are normalised afterwards (load.ts).
 */
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
    circuitBreaker: Type.Object(
      {
        failureThreshold: Type.Integer({ minimum: 1, default: 5 }),
        cooldownMs: Type.Integer({ minimum: 1, default: 10_000 }),
      },
      { additionalProperties: false, default: {} },
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
      bodyTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
      shutdownGraceMs: Type.Integer({ minimum: 0, default: 25_000 }),
      maxEventLoopDelayMs: Type.Integer({ minimum: 0, default: 1_000 }),
    }),
    wallaroo: Type.Object(
      {
        url: Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$' }),
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
        }),
        mlops: Nullable(
          Type.Object(
            {
              clientId: Type.String({ minLength: 1, default: 'sdk-client' }),
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
    }),
    pipelines: Type.Array(PipelineSchema, { minItems: 1 }),
    rateLimit: closed({
      store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], { default: 'memory' }),
      redisUrl: Nullable(Type.String({ pattern: '^rediss?://' })),
      redisUrlFile: Type.Optional(NonEmpty),
      keyBy: Type.String({ pattern: '^(ip|header:[A-Za-z0-9!#$%&\'*+.^_`|~-]+)$', default: 'ip' }),
      default: Nullable(RateLimitRule),
      failOpen: Type.Boolean({ default: true }),
      redisTimeoutMs: Type.Integer({ minimum: 1, default: 200 }),
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
  },
  { additionalProperties: false },
);

export type RawConfig = Static<typeof ConfigSchema>;
export type RawPipeline = Static<typeof PipelineSchema>;
