import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { parseArrowTypeSpec } from '../convert/arrow-types.ts';
import { interpolateTree } from './interpolate.ts';
import { ConfigSchema, type RawConfig, type RawPipeline } from './schema.ts';
import { parseDurationMs, parseSize } from './units.ts';

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
  server: { host: string; port: number; bodyLimit: number; bodyTimeoutMs: number; shutdownGraceMs: number; maxEventLoopDelayMs: number };
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
}

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'GW_CONFIG_INVALID';
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], source?: string) {
    const where = source ? ` in ${source}` : '';
    super(
      `invalid configuration${where} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, verbose: true, strict: false });
const validateRaw = ajv.compile<RawConfig>(ConfigSchema);

/** "/pipelines/0/timeoutMs" -> "pipelines[0].timeoutMs" */
function toPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/** Paths whose values are secrets (or may embed one, like a Redis URL with a password): never echoed. */
const SECRET_PATH = /(secret|password|token|redisurl)$/i;

function shown(path: string, value: unknown): string {
  return SECRET_PATH.test(path) ? '(value hidden)' : JSON.stringify(value);
}

function describeAjvErrors(errors: ErrorObject[]): ConfigProblem[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const problems: ConfigProblem[] = [];
  for (const error of errors) {
    const path = toPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      problems.push({ path: path ? `${path}.${key}` : key, message: 'unknown key' });
    } else if (error.keyword === 'anyOf') {
      const branches = (error.schema as Array<{ const?: unknown; type?: string }>) ?? [];
      const literals = branches.filter((b) => b.const !== undefined).map((b) => JSON.stringify(b.const));
      const nullable = branches.some((b) => b.type === 'null');
      problems.push({
        path,
        message: literals.length
          ? `must be one of ${literals.join(', ')}`
          : `has an invalid value ${shown(path, error.data)}${nullable ? ' (or leave it null)' : ''}`,
      });
    } else if (unionPaths.has(error.instancePath)) {
      continue; // a failed branch of a union already reported as one problem above
    } else if (error.keyword === 'required') {
      const key = (error.params as { missingProperty: string }).missingProperty;
      problems.push({ path: path ? `${path}.${key}` : key, message: 'is required' });
    } else {
      problems.push({ path, message: `${error.message ?? 'is invalid'} (got ${shown(path, error.data)})` });
    }
  }
  return problems;
}

function secretRef(
  inline: string | undefined,
  file: string | undefined,
  path: string,
  baseDir: string,
  problems: ConfigProblem[],
  required: boolean,
): SecretRef | null {
  if (inline !== undefined && file !== undefined) {
    problems.push({ path: `${path}File`, message: `set ${path.split('.').pop()} or ${path.split('.').pop()}File, not both` });
    return null;
  }
  if (file !== undefined) {
    const absolute = isAbsolute(file) ? file : resolve(baseDir, file);
    try {
      accessSync(absolute, fsConstants.R_OK);
      if (readFileSync(absolute, 'utf8').trim() === '') problems.push({ path: `${path}File`, message: `file ${absolute} is empty` });
    } catch (error) {
      problems.push({ path: `${path}File`, message: `cannot read ${absolute} (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
    }
    return { source: 'file', path: absolute };
  }
  if (inline !== undefined && inline !== '') return { source: 'inline', value: inline };
  // Already reported when it came from a missing environment variable.
  if (required && !problems.some((p) => p.path === path)) problems.push({ path, message: `is required (or ${path.split('.').pop()}File)` });
  return null;
}

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
        parseArrowTypeSpec(spec);
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

/** Reads a secret's current value; files are read at every call so a rotated (symlink-swapped) secret is picked up. */
export async function readSecret(ref: SecretRef): Promise<string> {
  if (ref.source === 'inline') return ref.value;
  return (await readFile(ref.path, 'utf8')).replace(/\r?\n$/, '');
}
