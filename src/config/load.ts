import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parseDocument } from 'yaml';
import { interpolateTree } from './interpolate.ts';
import { ConfigError, type ConfigProblem, describeAjvErrors } from './problems.ts';
import { ConfigSchema, type RawConfig, type RawPipeline } from './schema.ts';
import { secretRef } from './secrets.ts';
import { parseTypeSpec } from './type-spec.ts';
import type { GatewayConfig, PipelineConfig } from './types.ts';
import { parseDurationMs, parseSize } from './units.ts';

// Parsing and validation of the config file: YAML, ${VAR} interpolation, the schema, then the checks a schema
// cannot express, every problem collected with its path before one ConfigError is thrown.

export { ConfigError, type ConfigProblem } from './problems.ts';
export { readSecret } from './secrets.ts';
export type { ConversionLimits, GatewayConfig, PipelineConfig, RateLimitRule, SecretRef } from './types.ts';

export type Env = Readonly<Record<string, string | undefined>>;

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, verbose: true, strict: false });
const validateRaw = ajv.compile<RawConfig>(ConfigSchema);

function normalisePipeline(raw: RawPipeline, index: number, origin: string, problems: ConfigProblem[]): PipelineConfig {
  const at = `pipelines[${index}]`;
  if (raw.url === null && raw.workspace === undefined) {
    problems.push({ path: `${at}.workspace`, message: 'is required unless url is set' });
  }
  if (raw.url !== null) {
    try {
      if (new URL(raw.url).origin !== origin) {
        problems.push({ path: `${at}.url`, message: `must be on the Wallaroo origin ${origin}` });
      }
    } catch {
      problems.push({ path: `${at}.url`, message: 'is not a valid URL' });
    }
  }
  if (raw.inputSchema) {
    for (const [column, spec] of Object.entries(raw.inputSchema)) {
      try {
        parseTypeSpec(spec);
      } catch (error) {
        problems.push({ path: `${at}.inputSchema.${column}`, message: (error as Error).message });
      }
    }
  }
  return {
    name: raw.name,
    workspace: raw.workspace ?? null,
    pipeline: raw.pipeline ?? raw.name,
    url: raw.url,
    timeoutMs: raw.timeoutMs,
    connectTimeoutMs: raw.connectTimeoutMs,
    upstreamFormat: raw.upstreamFormat,
    inputSchema: raw.inputSchema,
    rateLimit: raw.rateLimit ? { max: raw.rateLimit.max, timeWindowMs: parseDurationMs(raw.rateLimit.timeWindow) } : null,
    maxConcurrency: raw.maxConcurrency,
    maxQueue: raw.maxQueue,
    maxRetries: raw.maxRetries,
    circuitBreaker: raw.circuitBreaker,
  };
}

/** Validates an already-parsed config tree. `baseDir` resolves relative secret file paths. */
export function parseConfig(tree: unknown, env: Env = process.env, baseDir = process.cwd(), source?: string): GatewayConfig {
  const { value, missing } = interpolateTree(tree ?? {}, env);
  const problems: ConfigProblem[] = missing.map(({ path, variable }) => ({
    path,
    message: `environment variable ${variable} is not set`,
  }));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([...problems, { path: '', message: 'the config must be a YAML mapping' }], source);
  }
  if (!validateRaw(value)) {
    throw new ConfigError([...problems, ...describeAjvErrors(validateRaw.errors ?? [])], source);
  }
  const raw = value;
  const url = new URL(raw.wallaroo.url);
  const origin = url.origin;
  const base = raw.wallaroo.url.replace(/\/+$/, '');

  const clientSecret = secretRef(raw.wallaroo.auth.clientSecret, raw.wallaroo.auth.clientSecretFile, 'wallaroo.auth.clientSecret', baseDir, problems, true);
  let mlops: GatewayConfig['wallaroo']['mlops'] = null;
  if (raw.wallaroo.mlops) {
    const password = secretRef(raw.wallaroo.mlops.password, raw.wallaroo.mlops.passwordFile, 'wallaroo.mlops.password', baseDir, problems, true);
    if (password) mlops = { clientId: raw.wallaroo.mlops.clientId, username: raw.wallaroo.mlops.username, password };
  }
  const redisUrl = secretRef(raw.rateLimit.redisUrl ?? undefined, raw.rateLimit.redisUrlFile, 'rateLimit.redisUrl', baseDir, problems, raw.rateLimit.store === 'redis');
  if (raw.wallaroo.tls.caFile) {
    try {
      accessSync(resolve(baseDir, raw.wallaroo.tls.caFile), fsConstants.R_OK);
    } catch {
      problems.push({ path: 'wallaroo.tls.caFile', message: `cannot read ${raw.wallaroo.tls.caFile}` });
    }
  }

  const pipelines = raw.pipelines.map((p, i) => normalisePipeline(p, i, origin, problems));
  const seen = new Map<string, number>();
  pipelines.forEach((p, i) => {
    const first = seen.get(p.name);
    if (first !== undefined) problems.push({ path: `pipelines[${i}].name`, message: `duplicates pipelines[${first}].name "${p.name}"` });
    else seen.set(p.name, i);
  });

  let port = raw.server.port;
  if (env.PORT !== undefined && env.PORT !== '') {
    const fromEnv = Number(env.PORT);
    if (Number.isInteger(fromEnv) && fromEnv >= 0 && fromEnv <= 65535) port = fromEnv;
    else problems.push({ path: 'PORT', message: `environment variable PORT is not a port number: ${JSON.stringify(env.PORT)}` });
  }

  if (problems.length > 0 || !clientSecret) throw new ConfigError(problems, source);

  const keyBy = raw.rateLimit.keyBy === 'ip'
    ? ({ kind: 'ip' } as const)
    : ({ kind: 'header', header: raw.rateLimit.keyBy.slice('header:'.length).toLowerCase() } as const);

  return {
    server: {
      host: raw.server.host,
      port,
      bodyLimit: parseSize(raw.server.bodyLimit),
      openAiBodyLimit: parseSize(raw.server.openAiBodyLimit),
      bodyTimeoutMs: raw.server.bodyTimeoutMs,
      shutdownGraceMs: raw.server.shutdownGraceMs,
      maxEventLoopDelayMs: raw.server.maxEventLoopDelayMs,
    },
    wallaroo: {
      url: base,
      origin,
      tls: {
        caFile: raw.wallaroo.tls.caFile ? resolve(baseDir, raw.wallaroo.tls.caFile) : null,
        rejectUnauthorized: raw.wallaroo.tls.rejectUnauthorized,
      },
      auth: {
        tokenUrl: raw.wallaroo.auth.tokenUrl ?? `${base}/auth/realms/master/protocol/openid-connect/token`,
        clientId: raw.wallaroo.auth.clientId,
        clientSecret,
        refreshBeforeExpirySeconds: raw.wallaroo.auth.refreshBeforeExpirySeconds,
      },
      mlops,
    },
    discovery: raw.discovery,
    pipelines,
    rateLimit: {
      store: raw.rateLimit.store,
      redisUrl,
      keyBy,
      default: raw.rateLimit.default
        ? { max: raw.rateLimit.default.max, timeWindowMs: parseDurationMs(raw.rateLimit.default.timeWindow) }
        : null,
      failOpen: raw.rateLimit.failOpen,
      redisTimeoutMs: raw.rateLimit.redisTimeoutMs,
    },
    logging: { level: raw.logging.level },
    metrics: { port: raw.metrics.port, host: raw.metrics.host },
    conversion: { ...raw.conversion, maxOutputBytes: parseSize(raw.conversion.maxOutputBytes) },
  };
}

/** Parses YAML text; syntax errors become problems with line numbers rather than exceptions. */
export function parseConfigText(text: string, env: Env = process.env, baseDir = process.cwd(), source?: string): GatewayConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })),
      source,
    );
  }
  return parseConfig(document.toJS(), env, baseDir, source);
}

export function loadConfigFile(file: string, env: Env = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})` }], file);
  }
  return parseConfigText(text, env, dirname(resolve(file)), file);
}
