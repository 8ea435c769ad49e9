import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Agent, request } from 'undici';
import type { KubernetesCallersConfig } from '../config/types.ts';
import type { KeyLoader } from './issuer-keys.ts';

// Where the issuer's keys come from: a mounted JWKS file, a JWKS URL, or the URL named by the issuer's OIDC
// discovery document (OpenID Connect Discovery 1.0, section 4). Answers are size-bounded and never redirected.

/** A JWKS or discovery document larger than this is refused (Kubernetes' is about a kilobyte per key). */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export function fileKeyLoader(path: string): KeyLoader {
  return async (signal) => {
    const { size } = await stat(path);
    if (size > MAX_DOCUMENT_BYTES) throw new Error(`${path} is ${size} bytes (at most ${MAX_DOCUMENT_BYTES})`);
    return JSON.parse(await readFile(path, { encoding: 'utf8', signal })) as unknown;
  };
}

interface HttpKeyLoaderOptions {
  config: KubernetesCallersConfig;
  dispatcher: Agent;
}

/** GET a JSON document under the size bound; `authorization` only where given. */
async function getJson(url: string, dispatcher: Agent, signal: AbortSignal, authorization: string | null): Promise<unknown> {
  const response = await request(url, {
    method: 'GET',
    dispatcher,
    signal,
    headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
  });
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`${new URL(url).origin}${new URL(url).pathname} answered ${response.statusCode}`);
  }
  const declared = Number(response.headers['content-length']);
  if (declared > MAX_DOCUMENT_BYTES) {
    response.body.destroy();
    throw new Error(`${new URL(url).pathname} declares ${declared} bytes (at most ${MAX_DOCUMENT_BYTES})`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_DOCUMENT_BYTES) {
      response.body.destroy();
      throw new Error(`${new URL(url).pathname} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

const sameOrigin = (a: string, b: string) => new URL(a).origin === new URL(b).origin;

/**
 * Keys over HTTP(S): the JWKS URL given, or the one the issuer's discovery document names (looked up again after
 * a failure, in case it moved). The gateway's own token (`bearerTokenFile`, re-read per fetch: the kubelet
 * rotates it) is sent only to the configured origin, never to a jwks_uri elsewhere.
 */
export function httpKeyLoader({ config, dispatcher }: HttpKeyLoaderOptions): KeyLoader {
  const { keys } = config;
  if (keys.source === 'file') throw new Error('httpKeyLoader needs a URL key source');
  const configuredUrl = keys.url;
  let jwksUrl: string | null = keys.source === 'url' ? keys.url : null;
  const issuer = config.issuer.replace(/\/+$/, '');
  const authorizationFor = async (url: string): Promise<string | null> => {
    if (!config.bearerTokenFile || !sameOrigin(url, configuredUrl)) return null;
    return `Bearer ${(await readFile(config.bearerTokenFile, 'utf8')).trim()}`;
  };

  const discover = async (signal: AbortSignal): Promise<string> => {
    const document = await getJson(configuredUrl, dispatcher, signal, await authorizationFor(configuredUrl)) as { issuer?: unknown; jwks_uri?: unknown };
    // OIDC Discovery 4.3: the document must name the issuer it was fetched for.
    if (typeof document?.issuer !== 'string' || document.issuer.replace(/\/+$/, '') !== issuer) {
      throw new Error('the discovery document names a different issuer');
    }
    if (typeof document.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
    const found = new URL(document.jwks_uri);
    // Never downgrade: keys come over https unless the issuer itself was configured as (loopback) http.
    if (found.protocol !== 'https:' && !(found.protocol === 'http:' && new URL(configuredUrl).protocol === 'http:')) {
      throw new Error('the discovery document names a jwks_uri that is not https');
    }
    return found.href;
  };

  return async (signal) => {
    const url = jwksUrl ?? (await discover(signal));
    try {
      const document = await getJson(url, dispatcher, signal, await authorizationFor(url));
      if (keys.source === 'discovery') jwksUrl = url;
      return document;
    } catch (error) {
      if (keys.source === 'discovery') jwksUrl = null;
      throw error;
    }
  };
}

/** The HTTP client for key fetches: the configured CA (the cluster's, usually), bounded connect and read times. */
export function keyFetchDispatcher(config: KubernetesCallersConfig): Agent {
  const ca = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
  return new Agent({
    connect: { timeout: config.keysTimeoutMs, ...(ca ? { ca } : {}) },
    headersTimeout: config.keysTimeoutMs,
    bodyTimeout: config.keysTimeoutMs,
    connections: 2,
  });
}
