import { accessSync, constants as fsConstants } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseCallerPattern } from './caller-patterns.ts';
import type { ConfigProblem } from './problems.ts';
import type { RawConfig } from './schema.ts';
import type { CallersConfig, KubernetesCallersConfig } from './types.ts';
import { checkedUrl } from './url-safety.ts';

// The checks of `callers`, `server.tls` and the allow lists that the schema cannot express. Every setting that
// would silently leave callers unverified (an allow list, an identity rate-limit key or a `callers.kubernetes`
// block without `callers.authentication`) is a problem, not a no-op.

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Where relative paths start, where problems go, and whether files are read (not offline: check-config --offline). */
interface FileCheck {
  baseDir: string;
  problems: ConfigProblem[];
  checkFiles: boolean;
}

/** A file path made absolute against the config file's directory; a problem when it cannot be read. */
export function readableFile(file: string, { baseDir, problems, checkFiles }: FileCheck, path: string): string {
  const absolute = isAbsolute(file) ? file : resolve(baseDir, file);
  if (!checkFiles) return absolute;
  try {
    accessSync(absolute, fsConstants.R_OK);
  } catch (error) {
    problems.push({ path, message: `cannot read ${absolute} (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
  }
  return absolute;
}

/** Keys fetched over the network must come over https; plain http only from this machine (tests, a local proxy). */
function checkKeyUrl(url: string, path: string, problems: ConfigProblem[]): void {
  const parsed = checkedUrl(url, path, problems);
  if (!parsed) return;
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && (LOOPBACK_HOSTS.has(parsed.hostname) || parsed.hostname.startsWith('127.'))) return;
  problems.push({ path, message: 'must be an https URL (plain http is accepted only on a loopback address): keys fetched in the clear could be replaced' });
}

function kubernetesCallers(raw: NonNullable<RawConfig['callers']['kubernetes']>, files: FileCheck): KubernetesCallersConfig {
  const { problems } = files;
  const at = 'callers.kubernetes';
  const issuer = raw.issuer.replace(/\/+$/, '');
  let keys: KubernetesCallersConfig['keys'];
  if (raw.jwksUrl !== null && raw.jwksFile !== null) {
    problems.push({ path: `${at}.jwksFile`, message: 'set jwksUrl or jwksFile, not both' });
  }
  if (raw.jwksFile !== null) {
    keys = { source: 'file', path: readableFile(raw.jwksFile, files, `${at}.jwksFile`) };
  } else if (raw.jwksUrl !== null) {
    checkKeyUrl(raw.jwksUrl, `${at}.jwksUrl`, problems);
    keys = { source: 'url', url: raw.jwksUrl };
  } else {
    checkKeyUrl(issuer, `${at}.issuer`, problems);
    keys = { source: 'discovery', url: `${issuer}/.well-known/openid-configuration` };
  }
  // The API server's own audience defaults to its issuer: accepting it would accept every pod's automounted
  // token, which any workload may hand to any other service.
  if (raw.audience.replace(/\/+$/, '') === issuer) {
    problems.push({ path: `${at}.audience`, message: "must not be the issuer (the API server's own audience: every pod's default token carries it); use a dedicated audience such as wallaroo-gateway" });
  }
  return {
    issuer: raw.issuer,
    audience: raw.audience,
    keys,
    caFile: raw.caFile === null ? null : readableFile(raw.caFile, files, `${at}.caFile`),
    bearerTokenFile: raw.bearerTokenFile === null ? null : readableFile(raw.bearerTokenFile, files, `${at}.bearerTokenFile`),
    clockSkewSeconds: raw.clockSkewSeconds,
    keysRefreshMs: raw.keysRefreshSeconds * 1000,
    keysMinRefreshMs: raw.keysMinRefreshSeconds * 1000,
    keysTimeoutMs: raw.keysTimeoutMs,
  };
}

function checkPatterns(patterns: readonly string[], path: string, problems: ConfigProblem[]): void {
  patterns.forEach((pattern, index) => {
    try {
      parseCallerPattern(pattern);
    } catch (error) {
      problems.push({ path: `${path}[${index}]`, message: (error as Error).message });
    }
  });
}

/**
 * `callers` normalised, `server.tls` with absolute paths, and each pipeline's allow list in force (index-aligned
 * with raw.pipelines; null when callers are not verified).
 */
export function normaliseCallers(raw: RawConfig, baseDir: string, problems: ConfigProblem[], checkFiles: boolean): {
  callers: CallersConfig;
  serverTls: { certFile: string; keyFile: string } | null;
  allowLists: Array<string[] | null>;
} {
  const { authentication } = raw.callers;
  const serverTls = raw.server.tls
    ? {
        certFile: readableFile(raw.server.tls.certFile, { baseDir, problems, checkFiles }, 'server.tls.certFile'),
        keyFile: readableFile(raw.server.tls.keyFile, { baseDir, problems, checkFiles }, 'server.tls.keyFile'),
      }
    : null;
  const verified = authentication !== 'none';

  let kubernetes: KubernetesCallersConfig | null = null;
  if (raw.callers.kubernetes && authentication !== 'kubernetes') {
    problems.push({ path: 'callers.kubernetes', message: `is set but callers.authentication is ${authentication}: set authentication: kubernetes, or remove the block` });
  } else if (authentication === 'kubernetes') {
    if (raw.callers.kubernetes) kubernetes = kubernetesCallers(raw.callers.kubernetes, { baseDir, problems, checkFiles });
    else problems.push({ path: 'callers.kubernetes', message: 'is required when callers.authentication is kubernetes (at least its issuer)' });
  }

  let mtls: CallersConfig['mtls'] = null;
  if (raw.callers.mtls && authentication !== 'mtls') {
    problems.push({ path: 'callers.mtls', message: `is set but callers.authentication is ${authentication}: set authentication: mtls, or remove the block` });
  } else if (authentication === 'mtls') {
    if (raw.callers.mtls) mtls = { caFile: readableFile(raw.callers.mtls.caFile, { baseDir, problems, checkFiles }, 'callers.mtls.caFile') };
    else problems.push({ path: 'callers.mtls', message: 'is required when callers.authentication is mtls (its caFile: the CA that signs client certificates)' });
    if (!serverTls) problems.push({ path: 'server.tls', message: 'is required when callers.authentication is mtls (client certificates need TLS)' });
  }

  checkPatterns(raw.callers.allow, 'callers.allow', problems);
  const allowLists = raw.pipelines.map((pipeline, index) => {
    if (pipeline.allow === undefined) return verified ? raw.callers.allow : null;
    if (!verified) {
      problems.push({ path: `pipelines[${index}].allow`, message: 'needs callers.authentication (kubernetes or mtls): without it no caller is identified, so nothing could be allowed or refused' });
      return null;
    }
    checkPatterns(pipeline.allow, `pipelines[${index}].allow`, problems);
    return pipeline.allow;
  });
  if (raw.rateLimit.keyBy === 'identity' && !verified) {
    problems.push({ path: 'rateLimit.keyBy', message: 'identity needs callers.authentication (kubernetes or mtls)' });
  }
  return {
    callers: { authentication, identityMetricLabel: raw.callers.identityMetricLabel, kubernetes, mtls },
    serverTls,
    allowLists,
  };
}
