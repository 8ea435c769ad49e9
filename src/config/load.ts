import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parseDocument } from 'yaml';
import { normaliseCallers } from './callers.ts';
import { interpolateTree } from './interpolate.ts';
import { ConfigError, type ConfigProblem, describeAjvErrors } from './problems.ts';
import { ConfigSchema, type RawConfig, type RawPipeline } from './schema.ts';
import { type SecretCheck, secretRef } from './secrets.ts';
import { parseTypeSpec } from './type-spec.ts';
import type { GatewayConfig, PipelineConfig } from './types.ts';
import { parseDurationMs, parseSize } from './units.ts';
import { checkedUrl, hasDotSegments, wallarooTransportProblems } from './url-safety.ts';

// Parsing and validation of the config file: YAML, ${VAR} interpolation, the schema, then the checks a schema
// cannot express, every problem collected with its path before one ConfigError is thrown.

export { ConfigError, type ConfigProblem } from './problems.ts';
export { readSecret } from './secrets.ts';
export type { BatchingConfig, CallersConfig, ConversionLimits, GatewayConfig, KubernetesCallersConfig, PipelineConfig, RateLimitRule, SecretRef, TracingConfig } from './types.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ParseOptions {
  /** false: secret and CA files are named but not read (`check-config --offline`, outside the pod). */
  checkFiles?: boolean;
  /**
   * false: the config is read for what it describes, not to run (`spec`): its secrets may be missing altogether (an
   * unset variable, a file that is not there) and files are not read (checkFiles: false). Such a config's secrets are
   * empty placeholders, never to be used.
   */
  needSecrets?: boolean;
}

/** The paths whose values are secrets (given inline or as a `...File`): see ParseOptions.needSecrets. */
const SECRET_PATHS = new Set(['wallaroo.auth.clientSecret', 'wallaroo.mlops.password', 'wallaroo.mlops.clientSecret', 'rateLimit.redisUrl']);

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/** Whether two listen addresses can clash on one port: the same address, or either one a wildcard. */
function hostsOverlap(a: string, b: string): boolean {
  const canonical = (host: string) => {
    const bare = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    return bare === 'localhost' ? '127.0.0.1' : bare;
  };
  const [x, y] = [canonical(a), canonical(b)];
  return x === y || WILDCARD_HOSTS.has(x) || WILDCARD_HOSTS.has(y);
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, verbose: true, strict: false });
const validateRaw = ajv.compile<RawConfig>(ConfigSchema);

function normalisePipeline(raw: RawPipeline, index: number, origin: string | null, problems: ConfigProblem[]): PipelineConfig {
  const at = `pipelines[${index}]`;
  if (raw.url === null && raw.workspace === undefined) {
    problems.push({ path: `${at}.workspace`, message: 'is required unless url is set' });
  }
  if (raw.url !== null) {
    const url = checkedUrl(raw.url, `${at}.url`, problems);
    // origin is null when wallaroo.url itself is refused (reported there)
    if (url && origin !== null && url.origin !== origin) {
      problems.push({ path: `${at}.url`, message: `must be on the Wallaroo origin ${origin}` });
    }
    if (url && hasDotSegments(raw.url)) problems.push({ path: `${at}.url`, message: 'must not have "." or ".." path segments' });
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
    example: raw.example,
    allow: null, // set by parseConfig, which knows callers.authentication
    batching: raw.batching ? { maxRows: raw.batching.maxRows, maxDelayMs: raw.batching.maxDelayMs, maxBytes: parseSize(raw.batching.maxBytes) } : null,
  };
}

/** Names proxy-addr (Fastify's trustProxy) accepts besides addresses and CIDRs. */
const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, an address/prefix, or one of proxy-addr's names; else a problem message. */
function trustProxyProblem(entry: string): string | null {
  if (TRUST_PROXY_NAMES.has(entry)) return null;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return `${JSON.stringify(entry)} is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal`;
  if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))) {
    return `${JSON.stringify(entry)} has a prefix length out of range`;
  }
  return null;
}

/** Deletes the key at a dotted path (no array indices) from an interpolated tree, if it is there. */
function removePath(tree: unknown, path: string): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let node = tree;
  for (const key of keys) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string, unknown>)[key];
  }
  if (node !== null && typeof node === 'object') delete (node as Record<string, unknown>)[last];
}

/** Validates an already-parsed config tree. `baseDir` resolves relative secret file paths. */
export function parseConfig(tree: unknown, env: Env = process.env, baseDir = process.cwd(), source?: string, options: ParseOptions = {}): GatewayConfig {
  const needSecrets = options.needSecrets ?? true;
  const checkFiles = needSecrets && (options.checkFiles ?? true);
  const secretCheck: SecretCheck = !needSecrets ? 'unneeded' : checkFiles ? 'read' : 'named';
  const { value, missing } = interpolateTree(tree ?? {}, env);
  const problems: ConfigProblem[] = [];
  for (const { path, variable } of missing) {
    // A secret from an unset variable, when no secret is needed: as if not given (its half-substituted text is not
    // checked against the schema either, e.g. a redisUrl pattern).
    if (!needSecrets && SECRET_PATHS.has(path)) removePath(value, path);
    else problems.push({ path, message: `environment variable ${variable} is not set` });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([...problems, { path: '', message: 'the config must be a YAML mapping' }], source);
  }
  if (!validateRaw(value)) {
    throw new ConfigError([...problems, ...describeAjvErrors(validateRaw.errors ?? [])], source);
  }
  const raw = value;
  const url = checkedUrl(raw.wallaroo.url, 'wallaroo.url', problems);
  const tokenUrl = raw.wallaroo.auth.tokenUrl === null ? null : checkedUrl(raw.wallaroo.auth.tokenUrl, 'wallaroo.auth.tokenUrl', problems);
  const { rejectUnauthorized } = raw.wallaroo.tls;
  if (url) problems.push(...wallarooTransportProblems({ url, tokenUrl, rejectUnauthorized, allowInsecure: raw.wallaroo.allowInsecure }));
  checkedUrl(raw.tracing.endpoint, 'tracing.endpoint', problems);
  const origin = url?.origin ?? null;
  const base = raw.wallaroo.url.replace(/\/+$/, '');

  const clientSecret = secretRef(raw.wallaroo.auth.clientSecret, raw.wallaroo.auth.clientSecretFile, 'wallaroo.auth.clientSecret', baseDir, problems, true, secretCheck);
  let mlops: GatewayConfig['wallaroo']['mlops'] = null;
  if (raw.wallaroo.mlops) {
    const password = secretRef(raw.wallaroo.mlops.password, raw.wallaroo.mlops.passwordFile, 'wallaroo.mlops.password', baseDir, problems, true, secretCheck);
    const clientId = raw.wallaroo.mlops.clientId ?? raw.wallaroo.auth.clientId;
    const ownSecret = secretRef(raw.wallaroo.mlops.clientSecret, raw.wallaroo.mlops.clientSecretFile, 'wallaroo.mlops.clientSecret', baseDir, problems, false, secretCheck);
    // The inference client's secret goes with the inference client only; another client without a secret is public.
    const mlopsSecret = ownSecret ?? (clientId === raw.wallaroo.auth.clientId ? clientSecret : null);
    if (password) mlops = { clientId, clientSecret: mlopsSecret, username: raw.wallaroo.mlops.username, password };
  }
  const redisUrl = secretRef(raw.rateLimit.redisUrl ?? undefined, raw.rateLimit.redisUrlFile, 'rateLimit.redisUrl', baseDir, problems, raw.rateLimit.store === 'redis', secretCheck);
  if (raw.wallaroo.tls.caFile && checkFiles) {
    try {
      accessSync(resolve(baseDir, raw.wallaroo.tls.caFile), fsConstants.R_OK);
    } catch {
      problems.push({ path: 'wallaroo.tls.caFile', message: `cannot read ${raw.wallaroo.tls.caFile}` });
    }
  }

  const pipelines = raw.pipelines.map((p, i) => normalisePipeline(p, i, origin, problems));
  const { callers, serverTls, allowLists } = normaliseCallers(raw, baseDir, problems, checkFiles);
  pipelines.forEach((p, i) => {
    p.allow = allowLists[i] ?? null;
  });
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

  const { port: metricsPort, host: metricsHost } = raw.metrics;
  if (metricsPort !== null && metricsPort !== 0 && metricsPort === port && hostsOverlap(raw.server.host, metricsHost)) {
    const from = port === raw.server.port ? 'server.port' : 'PORT';
    problems.push({ path: 'metrics.port', message: `${metricsPort} is also ${from}: the metrics listener (${metricsHost}) and the traffic listener (${raw.server.host}) cannot share it` });
  }
  raw.server.trustProxy.forEach((entry, i) => {
    const problem = trustProxyProblem(entry);
    if (problem) problems.push({ path: `server.trustProxy[${i}]`, message: problem });
  });
  if (raw.ui.enabled && raw.ui.port === 'metrics' && raw.metrics.port === null) {
    problems.push({ path: 'ui.port', message: 'is metrics, but metrics.port is not set (the status page would have no listener)' });
  }
  if (raw.tracing.maxExportBatchSize > raw.tracing.maxQueueSize) {
    problems.push({ path: 'tracing.maxExportBatchSize', message: `must not exceed tracing.maxQueueSize (${raw.tracing.maxQueueSize})` });
  }

  if (problems.length > 0 || !clientSecret || origin === null) throw new ConfigError(problems, source);

  const keyBy = raw.rateLimit.keyBy === 'ip' || raw.rateLimit.keyBy === 'identity'
    ? ({ kind: raw.rateLimit.keyBy } as const)
    : ({ kind: 'header', header: raw.rateLimit.keyBy.slice('header:'.length).toLowerCase() } as const);

  return {
    server: {
      host: raw.server.host,
      port,
      bodyLimit: parseSize(raw.server.bodyLimit),
      openAiBodyLimit: parseSize(raw.server.openAiBodyLimit),
      openAiStreamTimeoutMs: raw.server.openAiStreamTimeoutMs,
      openAiEventLimit: parseSize(raw.server.openAiEventLimit),
      bodyTimeoutMs: raw.server.bodyTimeoutMs,
      headersTimeoutMs: raw.server.headersTimeoutMs,
      shutdownGraceMs: raw.server.shutdownGraceMs,
      drainDelayMs: raw.server.drainDelayMs,
      bufferBudget: parseSize(raw.server.bufferBudget),
      maxEventLoopDelayMs: raw.server.maxEventLoopDelayMs,
      trustProxy: raw.server.trustProxy,
      tls: serverTls,
    },
    wallaroo: {
      url: base,
      origin,
      allowInsecure: raw.wallaroo.allowInsecure,
      tls: {
        caFile: raw.wallaroo.tls.caFile ? resolve(baseDir, raw.wallaroo.tls.caFile) : null,
        rejectUnauthorized: raw.wallaroo.tls.rejectUnauthorized,
      },
      auth: {
        tokenUrl: raw.wallaroo.auth.tokenUrl ?? `${base}/auth/realms/master/protocol/openid-connect/token`,
        clientId: raw.wallaroo.auth.clientId,
        clientSecret,
        refreshBeforeExpirySeconds: raw.wallaroo.auth.refreshBeforeExpirySeconds,
        requestTimeoutMs: raw.wallaroo.auth.requestTimeoutMs,
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
    callers,
    logging: { level: raw.logging.level },
    metrics: { port: raw.metrics.port, host: raw.metrics.host },
    conversion: { ...raw.conversion, maxOutputBytes: parseSize(raw.conversion.maxOutputBytes) },
    ui: { enabled: raw.ui.enabled, port: raw.ui.port },
    tracing: { ...raw.tracing },
  };
}

/** Parses YAML text; syntax errors become problems with line numbers rather than exceptions. */
export function parseConfigText(text: string, env: Env = process.env, baseDir = process.cwd(), source?: string, options: ParseOptions = {}): GatewayConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((e) => {
        const at = e.linePos?.[0];
        // prettyErrors appends " at line L, column C:" and the source lines; the position goes in the path, and the
        // source is not echoed (the line may hold a secret).
        const reason = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        return { path: at ? `line ${at.line}, column ${at.col}` : 'line ?', message: `YAML syntax: ${reason}` };
      }),
      source,
    );
  }
  return parseConfig(document.toJS(), env, baseDir, source, options);
}

export function loadConfigFile(file: string, env: Env = process.env, options: ParseOptions = {}): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})` }], file);
  }
  return parseConfigText(text, env, dirname(resolve(file)), file, options);
}
