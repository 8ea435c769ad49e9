import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Every error the gateway itself produces. One place, so codes stay stable and docs/errors.md can be checked
 * against it by a test. `retryable` errors carry Retry-After.
 */
export const ERROR_CATALOG = {
  GW_ROUTE_NOT_FOUND: { statusCode: 404, summary: 'No such route on the gateway.' },
  GW_PIPELINE_NOT_FOUND: { statusCode: 404, summary: 'The pipeline name in the path is not configured.' },
  GW_METHOD_NOT_ALLOWED: { statusCode: 405, summary: 'The path is a route but not for this HTTP method (any method, CONNECT included); Allow lists the ones it takes.' },
  GW_BAD_REQUEST: { statusCode: 400, summary: 'The request itself is malformed (headers, URL).' },
  GW_BAD_FRAMING: { statusCode: 400, summary: "The request's length is ambiguous or unreadable (Content-Length with Transfer-Encoding, repeated or non-numeric Content-Length, broken chunked encoding, a transfer coding other than chunked); the connection is closed." },
  GW_HEADERS_TOO_LARGE: { statusCode: 431, summary: "The request line and headers exceed the HTTP server's header size limit (Node's, 16 KiB by default); the connection is closed." },
  GW_EXPECTATION_FAILED: { statusCode: 417, summary: 'The request has an Expect header other than 100-continue.' },
  GW_URI_TOO_LONG: { statusCode: 414, summary: 'A path segment (such as the pipeline name) is longer than any configured one can be.' },
  GW_EMPTY_BODY: { statusCode: 400, summary: 'An inference request arrived without a body.' },
  GW_INVALID_JSON: { statusCode: 400, summary: 'The body is not valid JSON, or not pandas-records (an array of row objects).' },
  GW_JSON_TOO_DEEP: { statusCode: 400, summary: 'The JSON nests deeper than the converter allows.' },
  GW_INVALID_ARROW: { statusCode: 400, summary: 'The body is not a readable Arrow IPC file or stream (truncated, corrupt).' },
  GW_SCHEMA_MISMATCH: { statusCode: 400, summary: 'A value does not fit the column type (inputSchema or inferred); the message names row and column.' },
  GW_BODY_TOO_LARGE: { statusCode: 413, summary: 'The body exceeds server.bodyLimit (server.openAiBodyLimit on the OpenAI routes); refused before it is read in full.' },
  GW_BODY_TOO_COMPLEX: { statusCode: 413, summary: 'Decoding or converting the body would exceed a budget (values, columns, output bytes or JSON arrays and objects; conversion.* in the config; or the working memory of a conversion past server.bufferBudget; SECURITY.md); refused before the memory is taken.' },
  GW_UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, summary: 'Content-Type is not pandas-records JSON or Arrow IPC file/stream.' },
  GW_NOT_ACCEPTABLE: { statusCode: 406, summary: 'Accept names no format the gateway can answer in.' },
  GW_REQUEST_TIMEOUT: { statusCode: 408, summary: 'The caller sent its body too slowly.' },
  GW_CALLER_UNAUTHENTICATED: { statusCode: 401, summary: 'callers.authentication is on and the request has no valid caller credential (service-account token or client certificate); see WWW-Authenticate.' },
  GW_CALLER_FORBIDDEN: { statusCode: 403, summary: "The verified caller is not in the pipeline's allow list." },
  GW_CALLER_KEYS_UNAVAILABLE: { statusCode: 503, summary: "The token's signing key is not known and the issuer's keys (JWKS) could not be fetched; retry shortly." },
  GW_RATE_LIMITED: { statusCode: 429, summary: 'The caller exceeded its rate limit; see Retry-After and RateLimit-* headers.' },
  GW_RATE_LIMIT_UNAVAILABLE: { statusCode: 503, summary: 'The shared rate-limit store (Redis) is down and rateLimit.failOpen is false.' },
  GW_OVERLOADED: { statusCode: 503, summary: 'The pipeline is at maxConcurrency and its queue is full, or the gateway is shedding load (event-loop delay above server.maxEventLoopDelayMs).' },
  GW_CIRCUIT_OPEN: { statusCode: 503, summary: 'The pipeline failed repeatedly; the gateway fails fast during the cool-down.' },
  GW_DRAINING: { statusCode: 503, summary: 'The gateway is shutting down and takes no new requests.' },
  GW_SHUTDOWN: { statusCode: 503, summary: "The gateway shut down with the request in flight: server.shutdownGraceMs ran out after the drain. Answered with Connection: close when nothing was sent yet, else the answer was cut (then seen only in logs and metrics); Wallaroo may have received the request." },
  GW_TOKEN_UNAVAILABLE: { statusCode: 503, summary: 'No valid Wallaroo token could be obtained (identity provider down or refusing).' },
  GW_UPSTREAM_UNAUTHORIZED: { statusCode: 502, summary: 'Wallaroo refused a token fetched after it had refused the previous one (credentials or permissions, not expiry).' },
  GW_DISCOVERY_FAILED: { statusCode: 502, summary: "The pipeline's inference URL could not be resolved through the MLOps API." },
  GW_DISCOVERY_UNTRUSTED_URL: { statusCode: 502, summary: 'A resolved URL is not on the configured Wallaroo origin (scheme, host, port), or has dot segments.' },
  GW_UPSTREAM_UNREACHABLE: { statusCode: 502, summary: 'Wallaroo could not be connected to (refused, reset, DNS, TLS).' },
  GW_UPSTREAM_BAD_RESPONSE: { statusCode: 502, summary: 'Wallaroo answered something the gateway could not read or convert.' },
  GW_UPSTREAM_TIMEOUT: { statusCode: 504, summary: 'Wallaroo did not answer within the pipeline timeout.' },
  GW_CALLER_TOO_SLOW: { statusCode: 408, summary: "The caller read its answer so slowly that the answer was not relayed within the pipeline's timeoutMs of Wallaroo's headers, or took none of a streamed answer for server.bodyTimeoutMs; the relay was cut (seen only in logs and metrics); not held against Wallaroo." },
  GW_CALLER_GONE: { statusCode: 499, summary: 'The caller closed the connection before its answer (nothing is sent; seen only in logs and metrics, as nginx counts it).' },
  GW_DEADLINE_EXCEEDED: { statusCode: 504, summary: "The request's timeoutMs passed inside the gateway (converting the body, waiting for a slot or a retry), before it was sent to Wallaroo; not held against Wallaroo." },
  GW_DISCOVERY_TIMEOUT: { statusCode: 504, summary: "The MLOps API did not resolve the pipeline's inference URL within the pipeline timeout." },
  GW_INTERNAL: { statusCode: 500, summary: 'A bug in the gateway; the log line with the request id has details.' },
} as const satisfies Record<string, { statusCode: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message ?? ERROR_CATALOG[code].summary, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.statusCode = ERROR_CATALOG[code].statusCode;
    this.headers = options?.headers ?? {};
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message);
  }
}

export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  const { statusCode, summary } = ERROR_CATALOG[code];
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? (statusCode === 499 ? 'Client Closed Request' : 'Error'), message: message ?? summary };
}

const FASTIFY_ERRORS: Record<string, GatewayError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'GW_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GW_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'GW_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GW_EMPTY_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'GW_INVALID_JSON',
  FST_ERR_VALIDATION: 'GW_BAD_REQUEST',
};

/** Any thrown value -> a coded gateway error; unknown ones become GW_INTERNAL with no detail leaked. */
const explained = new WeakMap<object, GatewayError>();

/**
 * Records what a foreign error (a library's) means as a coded error, where the code that saw it knows and the
 * handler that will answer for it does not: a Wallaroo answer whose framing breaks before its first byte is relayed
 * fails inside Fastify's pipe, and must reach the caller as Wallaroo's bad answer, not as a gateway bug.
 */
export function explainError(error: unknown, meaning: GatewayError): void {
  if (error !== null && typeof error === 'object') explained.set(error, meaning);
}

export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const meaning = error !== null && typeof error === 'object' ? explained.get(error) : undefined;
  if (meaning) return meaning;
  const fastifyError = error as Partial<FastifyError>;
  const mapped = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (mapped) return new GatewayError(mapped, undefined, { cause: error });
  if (fastifyError.statusCode === 413) return new GatewayError('GW_BODY_TOO_LARGE', undefined, { cause: error });
  if (fastifyError.statusCode === 408) return new GatewayError('GW_REQUEST_TIMEOUT', undefined, { cause: error });
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new GatewayError('GW_BAD_REQUEST', undefined, { cause: error });
  }
  return new GatewayError('GW_INTERNAL', 'internal error; the gateway log has details under this request id', { cause: error });
}

/**
 * Logs a coded error once: gateway-side and Wallaroo failures (5xx) as warnings, the caller's own (4xx, 499) at
 * debug, and a bug (GW_INTERNAL) with its stack.
 */
export function logGatewayError(log: FastifyBaseLogger, error: GatewayError, original: unknown): void {
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const fields = { code: error.code, status: error.statusCode, cause: cause?.code ?? cause?.message };
  if (error.code === 'GW_INTERNAL') log.error({ ...fields, err: original }, 'unexpected error');
  else if (error.statusCode >= 500) log.warn(fields, error.message);
  else log.debug(fields, error.message);
}

/** Answers with the error's JSON body (unless an answer already started); an unread body closes the connection. */
export function replyWithError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): void {
  if (reply.sent || reply.raw.headersSent) return;
  // A body left unread (too large, too slow) must not be parsed as the next request.
  if (!request.raw.readableEnded) reply.header('connection', 'close');
  void reply.code(error.statusCode).headers(error.headers).send(error.toBody());
}

/** Router errors (bad URL encoding, overlong segments) never reach the error handler: answered here, in the same
 * format, never echoing the offending path. For Fastify's `frameworkErrors` option. */
export function answerFrameworkError(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'GW_URI_TOO_LONG' : 'GW_BAD_REQUEST';
  void reply.code(errorBody(code).statusCode).header('connection', 'close').send(errorBody(code));
}

/** Node's HTTP parser errors (llhttp codes) that are about the body's length: request smuggling territory. */
const FRAMING_ERRORS: Record<string, string> = {
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length is repeated or sent with Transfer-Encoding: the body length is ambiguous',
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not a single non-negative integer',
  HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding is not chunked or comes with Content-Length: the body length is ambiguous',
  HPE_INVALID_CHUNK_SIZE: 'a chunk size in the chunked body is malformed',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'chunk extensions are too large',
  HPE_STRICT: 'the chunked body is malformed',
};

/** The coded error for a parser-level failure; Node's own message is never shown (it names parser internals). */
export function clientErrorBody(nodeCode: string | undefined): ErrorBody {
  if (nodeCode === 'HPE_HEADER_OVERFLOW') return errorBody('GW_HEADERS_TOO_LARGE');
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return errorBody('GW_REQUEST_TIMEOUT', 'the request did not arrive within the server\'s request timeout');
  const framing = nodeCode === undefined ? undefined : FRAMING_ERRORS[nodeCode];
  if (framing !== undefined) return errorBody('GW_BAD_FRAMING', framing);
  return errorBody('GW_BAD_REQUEST', 'the request line or a header is malformed HTTP/1.1');
}

/** A whole HTTP/1.1 answer for a socket no request object exists for; it always closes the connection. */
function rawAnswer(body: ErrorBody, headers: Record<string, string> = {}): string {
  const json = JSON.stringify(body);
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${body.statusCode} ${body.error}\r\nConnection: close\r\n${extra}Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before any route sees it (ambiguous framing,
 * bad Content-Length, oversized headers, a malformed request line) answered in the gateway's error shape, as
 * Node itself would: only if no answer to an earlier request on the socket has started, then the socket closes.
 */
export function answerClientError(this: { log: FastifyBaseLogger }, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A TLS handshake that timed out or failed has no channel for an HTTP answer: writing one never finished, so the
  // connection stayed open (server.tls listeners pass these errors here, and destroying them is this handler's job).
  if (error.code?.startsWith('ERR_TLS_') || error.code?.startsWith('ERR_SSL_')) {
    this.log.debug({ cause: error.code }, 'TLS handshake failed');
    socket.destroy();
    return;
  }
  const body = clientErrorBody(error.code);
  this.log.debug({ code: body.code, status: body.statusCode, cause: error.code }, 'client error');
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(rawAnswer(body), () => socket.destroy());
}

/** Node answers an unknown `Expect` with an empty 417 unless the server listens for this event. */
function answerUnmetExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const json = JSON.stringify(errorBody('GW_EXPECTATION_FAILED', 'only Expect: 100-continue is supported'));
  response.writeHead(417, { connection: 'close', 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  response.end(json);
}

/** The order methods are listed in `Allow`. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Each listener's route paths (as patterns) and the methods registered on them, recorded as routes are added. */
const routeMethods = new WeakMap<object, Array<{ pattern: RegExp; methods: Set<string> }>>();

/** A Fastify route URL (`/pipelines/:name/infer`, `/docs/*`) as a pattern for a request's path. */
function routePattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

function recordRouteMethods(app: FastifyInstance): void {
  const routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  routeMethods.set(app.server, routes);
  app.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method);
    // Fastify answers HEAD on every GET route.
    if (methods.includes('GET')) methods.push('HEAD');
    const pattern = routePattern(route.url);
    const known = routes.find((r) => r.pattern.source === pattern.source);
    if (known) for (const method of methods) known.methods.add(method);
    else routes.push({ pattern, methods: new Set(methods) });
  });
}

/** A request target in the absolute form (`http://host/path`), its scheme and authority as the match. */
const ABSOLUTE_FORM = /^https?:\/\/[^/]*/i;

/**
 * A request target's path as the router matches it: without query or fragment, the absolute form reduced to its
 * path, percent-escapes decoded (so `/pipelines/p/%69nfer` is `/pipelines/p/infer` here too, as when POSTed).
 */
function routedPath(url: string): string {
  let path = url.split(/[?#]/)[0]!;
  if (ABSOLUTE_FORM.test(path)) path = path.replace(ABSOLUTE_FORM, '') || '/';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The methods routes take at `url`'s path on `server`'s listener, in `Allow` order; empty for an unknown path. */
export function allowedMethods(server: object, url: string): string[] {
  const path = routedPath(url);
  const methods = new Set<string>();
  for (const route of routeMethods.get(server) ?? []) {
    if (route.pattern.test(path)) for (const method of route.methods) methods.add(method);
  }
  return METHOD_ORDER.filter((m) => methods.has(m)).concat([...methods].filter((m) => !METHOD_ORDER.includes(m)).sort());
}

/** The 405 for a known path under a method no route there takes. */
export function methodNotAllowedBody(method: string, allow: readonly string[]): ErrorBody {
  return errorBody('GW_METHOD_NOT_ALLOWED', `${method.slice(0, 32)} is not allowed here; use ${allow.join(' or ')}`);
}

/**
 * Node destroys the socket of a CONNECT request when nothing listens for it: answered instead, as any other
 * method no route takes (405 with Allow on a known path, else 404), and the connection is closed (whatever
 * followed the request on it is not HTTP the gateway reads).
 */
function answerConnect(this: { log: FastifyBaseLogger }, server: object, request: IncomingMessage, socket: Socket): void {
  const url = request.url ?? '';
  const allow = url.startsWith('/') ? allowedMethods(server, url) : [];
  const body = allow.length > 0 ? methodNotAllowedBody('CONNECT', allow) : errorBody('GW_ROUTE_NOT_FOUND', 'no route CONNECT: the gateway is not a forward proxy');
  this.log.debug({ code: body.code, status: body.statusCode }, 'CONNECT refused');
  socket.on('error', () => undefined);
  socket.end(rawAnswer(body, allow.length > 0 ? { allow: allow.join(', ') } : {}), () => socket.destroy());
}

/**
 * The parser-level rejections Node answers on its own, in the gateway's shape: an unmet `Expect`, a CONNECT and
 * (with `requireHostHeader: false` in the server options, see http/server-options.ts) an HTTP/1.1 request without
 * Host. Also records each route's methods, for 405 on a known path (installErrorHandling, answerConnect).
 */
export function installParserErrorHandling(app: FastifyInstance): void {
  recordRouteMethods(app);
  app.server.on('checkExpectation', answerUnmetExpectation);
  app.server.on('connect', (request: IncomingMessage, socket: Socket) => answerConnect.call(app, app.server, request, socket));
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      void reply.code(400).header('connection', 'close').send(errorBody('GW_BAD_REQUEST', 'an HTTP/1.1 request needs a Host header'));
      return;
    }
    // A target that is neither a path nor an absolute URL (`GET *`, the asterisk form, is Node-parsable): the
    // router would match it to `/` and answer the status page. No route takes it.
    const target = request.raw.url ?? '';
    if (!target.startsWith('/') && !ABSOLUTE_FORM.test(target)) {
      answerNoRoute(request, reply);
      return;
    }
    done();
  });
}

/** Every thrown thing answered as a coded error body (once, logged once); unknown routes as GW_ROUTE_NOT_FOUND. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const gatewayError = toGatewayError(error);
    logGatewayError(request.log, gatewayError, error);
    replyWithError(request, reply, gatewayError);
  });
  app.setNotFoundHandler((request, reply) => answerNoRoute(request, reply));
}

/** A request no route takes: 405 with `Allow` when its path is a known route's (another method), else 404. */
export function answerNoRoute(request: FastifyRequest, reply: FastifyReply): void {
  const allow = allowedMethods(request.server.server, request.url);
  if (allow.length > 0) {
    void reply.code(405).header('allow', allow.join(', ')).send(methodNotAllowedBody(request.method, allow));
    return;
  }
  void reply.code(404).send(routeNotFoundBody(request));
}

/** The GW_ROUTE_NOT_FOUND body for a request no route takes. */
export function routeNotFoundBody(request: FastifyRequest): ErrorBody {
  return errorBody('GW_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`);
}
