import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

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

/** Never forwarded to Wallaroo: caller credentials, routing facts of our own network, and what we recompute. */
const NOT_TO_UPSTREAM = new Set([
  'host', 'authorization', 'cookie', 'content-length', 'content-type', 'accept', 'accept-encoding', 'expect',
  'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-real-ip',
  'x-request-id',
]);

/** Never passed back to callers: Wallaroo's cookies and internals, and what we recompute. */
const NOT_TO_CALLER = new Set([
  'set-cookie', 'server', 'x-powered-by', 'via', 'alt-svc', 'date', 'content-length', 'x-request-id',
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

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, options: UpstreamHeaderOptions): Record<string, string> {
  const listed = connectionListed(incoming.connection);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_TO_UPSTREAM.has(name) || listed.has(name)) continue;
    if (name.startsWith('x-gateway-') || name.startsWith('proxy-')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  headers.authorization = `Bearer ${options.token}`;
  headers['content-type'] = options.contentType;
  headers.accept = options.accept;
  headers['x-request-id'] = options.requestId;
  if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
  return headers;
}

export function callerResponseHeaders(
  upstream: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  options: { requestId: string; upstreamStatus: number; contentType?: string | undefined },
): OutgoingHttpHeaders {
  const listed = connectionListed(upstream.connection);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || NOT_TO_CALLER.has(lower) || listed.has(lower)) continue;
    headers[lower] = value;
  }
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  headers['x-request-id'] = options.requestId;
  if (options.upstreamStatus >= 400) headers['x-gateway-upstream-status'] = String(options.upstreamStatus);
  return headers;
}
