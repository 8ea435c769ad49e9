import type { FastifyBaseLogger, FastifyHttpsOptions, FastifyServerOptions } from 'fastify';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import { answerClientError, answerFrameworkError } from '../errors.ts';
import { requestIdFrom } from './headers.ts';

/** How the gateway's HTTP server behaves, whatever it serves: request ids, body limit, proxies, errors, closing. */
export function gatewayServerOptions(
  server: { bodyLimit: number; trustProxy: string[]; headersTimeoutMs: number },
  logger: Logger,
  https: FastifyHttpsOptions<never>['https'] | null,
): FastifyServerOptions & { https: unknown; http: { requireHostHeader: boolean; headersTimeout: number; connectionsCheckingInterval: number } } {
  // Node checks the headers timeout only every connectionsCheckingInterval (30 s by default): each second here.
  const slowLoris = { headersTimeout: server.headersTimeoutMs, connectionsCheckingInterval: 1_000 };
  return {
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request is written by the access log instead, with the gateway's own fields.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // A caller's x-request-id is kept only when well formed (it ends up in logs).
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    bodyLimit: server.bodyLimit,
    trustProxy: server.trustProxy.length > 0 ? server.trustProxy : false,
    return503OnClosing: false,
    frameworkErrors: answerFrameworkError,
    // Parser-level refusals in the gateway's error shape (errors.ts); a missing Host is refused there too, coded.
    clientErrorHandler: answerClientError,
    http: { requireHostHeader: false, ...slowLoris },
    forceCloseConnections: 'idle',
    // A TLS handshake gets the headers' bound too (Node's default is 120 s): a client that opens connections and
    // never finishes one held each of them, file descriptor and all, for two minutes.
    https: https === null ? null : { ...https, requireHostHeader: false, handshakeTimeout: server.headersTimeoutMs, ...slowLoris }, // null: plain HTTP
  };
}
