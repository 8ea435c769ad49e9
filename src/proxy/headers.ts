import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { GATEWAY_VERSION } from '../http/version.ts';

const USER_AGENT = `wallaroo-gateway/${GATEWAY_VERSION}`;

/**
 * Header hygiene, pure. RFC 9110 7.6.1: hop-by-hop headers and every header named in `Connection` belong to
 * one connection and are never forwarded. The caller's credentials never reach Wallaroo (the gateway's own
 * token replaces, never joins, any Authorization), and Wallaroo's session cookies and server banners never
 * reach the caller.
 */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'http2-settings',
]);

/**
 * Never passed back to callers: Wallaroo's cookies and internals, and what we recompute. `www-authenticate`
 * describes Wallaroo's authentication of the gateway, not the gateway's of its caller (the gateway sends its own
 * only when it refuses a caller, callers/).
 */
const NOT_TO_CALLER = new Set([
  'set-cookie', 'www-authenticate', 'server', 'x-powered-by', 'via', 'alt-svc', 'date', 'content-length', 'x-request-id',
  'x-envoy-upstream-service-time', 'x-envoy-decorator-operation',
]);

/** Names listed in Connection (RFC 9110 7.6.1), lower-cased. */
const NONE_LISTED: ReadonlySet<string> = new Set();

export function connectionListed(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return NONE_LISTED;
  const listed = new Set<string>();
  for (const value of ([] as string[]).concat(connection ?? [])) {
    for (const name of value.split(',')) {
      const trimmed = name.trim().toLowerCase();
      if (trimmed) listed.add(trimmed);
    }
  }
  return listed;
}

export interface UpstreamHeaderOptions {
  token: string;
  requestId: string;
  contentType: string;
  accept: string;
  contentLength?: number | undefined;
}

/**
 * Caller headers that reach Wallaroo: trace context and the body's encoding. Everything else a caller sends is
 * dropped — its credentials, cookies, the forwarding family (Forwarded, X-Forwarded-*, X-Real-IP, Via, ...),
 * Envoy's control headers (x-envoy-*, which Wallaroo's ingress would obey), method overrides — because an
 * allow-list cannot be outflanked by a header nobody thought of.
 */
// traceparent before tracestate: a tracestate passes only with a valid traceparent.
const FROM_CALLER = ['traceparent', 'tracestate', 'content-encoding'] as const;
// W3C Trace Context 3.2: version ff, an all-zero trace-id and an all-zero parent-id are invalid.
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const TRACESTATE_LIMIT = 512;

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, options: UpstreamHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.token}`,
    'content-type': options.contentType,
    accept: options.accept,
    // Conversion, batching and the engine-time read need the answer's bytes as they are: no compression.
    'accept-encoding': 'identity',
    'x-request-id': options.requestId,
    'user-agent': USER_AGENT,
  };
  if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
  const listed = connectionListed(incoming.connection);
  for (const name of FROM_CALLER) {
    const value = incoming[name];
    if (typeof value !== 'string' || listed.has(name)) continue;
    if (name === 'traceparent' && !TRACEPARENT.test(value)) continue;
    // A tracestate belongs to its traceparent (W3C Trace Context 3.3): without a valid one passed on, it goes too.
    if (name === 'tracestate' && (headers.traceparent === undefined || value.length > TRACESTATE_LIMIT)) continue;
    headers[name] = value;
  }
  return headers;
}

/** After a conversion these no longer describe the body the caller gets. */
const REPRESENTATION = new Set([
  'etag', 'last-modified', 'content-encoding', 'content-md5', 'digest', 'content-digest', 'repr-digest', 'content-range',
  'accept-ranges', 'content-location',
]);

export function callerResponseHeaders(
  upstream: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  options: { requestId: string; upstreamStatus: number; contentType?: string | undefined },
): OutgoingHttpHeaders {
  const listed = connectionListed(upstream.connection);
  const converted = options.contentType !== undefined;
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || NOT_TO_CALLER.has(lower) || listed.has(lower)) continue;
    if (converted && REPRESENTATION.has(lower)) continue;
    headers[lower] = value;
  }
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  headers['x-request-id'] = options.requestId;
  if (options.upstreamStatus >= 400) headers['x-gateway-upstream-status'] = String(options.upstreamStatus);
  return headers;
}
