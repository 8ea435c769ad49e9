import type { Server } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { GatewayConfig, KubernetesCallersConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { oncePer } from '../http/once-per.ts';
import { AllowList } from './allow-list.ts';
import { ClientCertificateIdentification } from './client-certificate.ts';
import type { Identification, RefusalReason } from './identity.ts';
import { IssuerKeys } from './issuer-keys.ts';
import { fileKeyLoader, httpKeyLoader, keyFetchDispatcher } from './key-loaders.ts';
import { type ClientCaGenerations, ServerTlsReloader, serverTlsOptions } from './server-tls.ts';
import { ServiceAccountTokenVerifier } from './token-verifier.ts';

// Who is calling (callers.authentication): the inference routes' onRequest hook, before the rate limit and
// before the body is read, identifies the caller (a Kubernetes service-account token, or a client certificate),
// puts the identity on `request.caller`, and refuses with 401 GW_CALLER_UNAUTHENTICATED, 403
// GW_CALLER_FORBIDDEN or 503 GW_CALLER_KEYS_UNAVAILABLE. Also the gateway's own TLS (server.tls).

export type { RefusalReason } from './identity.ts';

export interface CallerEvents {
  /** A request was refused; `pipeline` is the configured pipeline it was for, or null (an unknown name). */
  refused(pipeline: string | null, reason: RefusalReason): void;
  keyFetch(result: 'success' | 'failure'): void;
  /** An answer to a verified caller; only with callers.identityMetricLabel (one metric series per identity). */
  answered(pipeline: string, caller: string, status: number): void;
}

export interface Callers {
  /** For the inference routes' scope; null when callers.authentication is none. */
  plugin: FastifyPluginCallback | null;
  /** https.createServer options when server.tls is set; else null (plain HTTP). */
  https: TlsOptions | null;
  /** False until the token issuer's keys were fetched once (kubernetes mode); /readyz waits for it. */
  ready(): boolean;
  /** Starts key fetching and the TLS file watch on the gateway's server. */
  start(server: Server): void;
  close(): Promise<void>;
}

const REALM = 'realm="wallaroo-gateway"';

/** RFC 6750 3: error_description is printable ASCII without '"' or '\'. */
const quotable = (text: string) => text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');

type Identify = (request: FastifyRequest) => Identification | Promise<Identification>;

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === 'function';

/** How one authentication mode identifies callers. */
interface Mode {
  identify: Identify;
  challenge(identification: Refusal): string;
  /** The token issuer's keys (kubernetes mode); null for certificates. */
  keys: IssuerKeys | null;
  retryAfterSeconds: number;
  close(): Promise<void>;
}

type Refusal = Extract<Identification, { ok: false }>;

interface CallersPluginOptions {
  mode: Mode;
  allowLists: ReadonlyMap<string, AllowList>;
  events: CallerEvents;
  identityMetricLabel: boolean;
}

function refusalError(identification: Refusal, mode: Mode): GatewayError {
  if (identification.reason === 'keys_unavailable') {
    return new GatewayError('GW_CALLER_KEYS_UNAVAILABLE', identification.message, { headers: { 'retry-after': String(mode.retryAfterSeconds) } });
  }
  return new GatewayError('GW_CALLER_UNAUTHENTICATED', identification.message, { headers: { 'www-authenticate': mode.challenge(identification) } });
}

/** The hook (and, when asked for, the per-identity metric) on the scope it is registered in (not encapsulated). */
function callersPlugin(options: CallersPluginOptions): FastifyPluginCallback {
  return fp((scope: FastifyInstance, _options: unknown, done: (error?: Error) => void) => {
    const { mode, allowLists, events } = options;
    const check: onRequestHookHandler = (request, _reply, next) => {
      const name = (request.params as { name?: string }).name;
      const pipeline = name !== undefined && allowLists.has(name) ? name : null;
      const decide = (identification: Identification) => {
        if (!identification.ok) {
          events.refused(pipeline, identification.reason);
          return next(refusalError(identification, mode));
        }
        const { identity } = identification;
        request.caller = identity;
        // An unknown pipeline name passes: the route answers 404, as for anyone.
        if (pipeline !== null && !allowLists.get(pipeline)!.allows(identity)) {
          events.refused(pipeline, 'forbidden');
          return next(new GatewayError('GW_CALLER_FORBIDDEN', `${identity.id} is not allowed to call pipeline ${pipeline}`));
        }
        next();
      };
      let identification: Identification | Promise<Identification>;
      try {
        identification = mode.identify(request);
      } catch (error) {
        return next(error as Error);
      }
      // Callback style and a synchronous answer for a token or connection seen before: no promise per request.
      if (isPromise(identification)) identification.then(decide, (error: unknown) => next(error as Error));
      else decide(identification);
    };
    scope.addHook('onRequest', check);
    if (options.identityMetricLabel) {
      scope.addHook('onResponse', (request, reply, next) => {
        const name = (request.params as { name?: string }).name;
        if (request.caller && name !== undefined && allowLists.has(name)) events.answered(name, request.caller.id, reply.statusCode);
        next();
      });
    }
    done();
  }, { name: 'wallaroo-gateway-callers', fastify: '5.x' });
}

function serviceAccountTokens(kubernetes: KubernetesCallersConfig, logger: Logger, events: CallerEvents): Mode {
  const { keys: source } = kubernetes;
  const dispatcher = source.source === 'file' ? null : keyFetchDispatcher(kubernetes);
  const shouldLogFailure = oncePer(10_000);
  let verifier: ServiceAccountTokenVerifier | null = null;
  const keys = new IssuerKeys({
    load: source.source === 'file' ? fileKeyLoader(source.path) : httpKeyLoader({ config: kubernetes, dispatcher: dispatcher! }),
    timeoutMs: kubernetes.keysTimeoutMs,
    minRefreshMs: kubernetes.keysMinRefreshMs,
    refreshMs: kubernetes.keysRefreshMs,
    onFetch: (result, error) => {
      events.keyFetch(result);
      if (error && shouldLogFailure()) logger.warn({ reason: error.message }, "cannot fetch the token issuer's keys; keeping those held");
    },
    onChange: () => {
      logger.info('the token issuer published new keys; verified tokens are checked again');
      verifier?.clearCache();
    },
  });
  const tokens = new ServiceAccountTokenVerifier({ issuer: kubernetes.issuer, audience: kubernetes.audience, clockSkewSeconds: kubernetes.clockSkewSeconds, keys });
  verifier = tokens;
  const missing = `a service-account token is required (Authorization: Bearer <projected token with audience ${kubernetes.audience}>)`;
  return {
    identify: (request) => {
      const header = request.headers.authorization;
      if (header === undefined || header === '') return { ok: false, reason: 'unauthenticated', message: missing, presented: false };
      // RFC 6750 2.1: the scheme is case-insensitive, the token is token68.
      const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
      if (!match) return { ok: false, reason: 'unauthenticated', message: 'the Authorization header must be Bearer <token>', presented: true };
      return tokens.verify(match[1]!);
    },
    // RFC 6750 3: no error code when no credential was presented.
    challenge: (identification) => identification.presented
      ? `Bearer ${REALM}, error="invalid_token", error_description="${quotable(identification.message)}"`
      : `Bearer ${REALM}`,
    keys,
    // Nothing changes for the caller before the next fetch may be made.
    retryAfterSeconds: Math.max(1, Math.ceil(kubernetes.keysMinRefreshMs / 1000)),
    close: async () => {
      keys.close();
      await dispatcher?.destroy(); // a key fetch still under way is of no use any more
    },
  };
}

function clientCertificates(generations: ClientCaGenerations | null): Mode {
  const certificates = new ClientCertificateIdentification(generations);
  return {
    identify: (request) => certificates.identify(request.raw.socket as TLSSocket),
    // No registered scheme names TLS client authentication; RFC 9110 11.6.1 still wants a challenge with a 401.
    challenge: () => `ClientCertificate ${REALM}`,
    keys: null,
    retryAfterSeconds: 1,
    close: async () => undefined,
  };
}

export function createCallers(config: GatewayConfig, logger: Logger, events: CallerEvents): Callers {
  const { callers } = config;
  const tlsFiles = config.server.tls
    ? { certFile: config.server.tls.certFile, keyFile: config.server.tls.keyFile, clientCaFile: callers.mtls?.caFile ?? null }
    : null;
  const reloader = tlsFiles ? new ServerTlsReloader(tlsFiles, logger) : null;
  const allowLists = new Map(config.pipelines.filter((p) => p.allow !== null).map((p) => [p.name, new AllowList(p.allow!)]));
  const mode = callers.authentication === 'kubernetes'
    ? serviceAccountTokens(callers.kubernetes!, logger, events)
    : callers.authentication === 'mtls' ? clientCertificates(reloader) : null;

  return {
    plugin: mode ? callersPlugin({ mode, allowLists, events, identityMetricLabel: callers.identityMetricLabel }) : null,
    https: tlsFiles ? serverTlsOptions(tlsFiles) : null,
    ready: () => mode?.keys?.ready ?? true,
    start: (server) => {
      mode?.keys?.start();
      reloader?.start(server);
    },
    close: async () => {
      reloader?.close();
      await mode?.close();
    },
  };
}
