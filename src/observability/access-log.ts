// Once per request, when its answer has gone out — or when the caller left before it did (status 499, as nginx
// logs it): the access log line, the request metrics, the end of the request's span, and the pipeline's last
// error. Also creates the request's stats and starts its trace (`request.trace`, see tracing.ts) on arrival.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ERROR_CATALOG, type ErrorCode, toGatewayError } from '../errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import type {} from '../http/caller.ts'; // request.caller
import './request-stats.ts';
import { type ActiveTrace, NO_TRACE, traceIdFromHeader, type Tracing } from './tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's trace: phases and the upstream call report to it (a no-op when tracing is off). */
    trace: ActiveTrace;
  }
}

export interface AccessLogOptions {
  metrics: GatewayMetrics;
  tracing: Tracing | null;
  /** The configured pipeline names: a request's pipeline is named from its path at arrival, so even a 429 is
   * counted under it. */
  pipelines: readonly string[];
  /** A failed pipeline request (status >= 500): its code (null: Wallaroo's own error passed on) and message. */
  onFailure(pipeline: string, status: number, code: string | null, message: string): void;
}

/** nginx's status for a request whose caller left before the answer: never sent, logged and counted. */
const CALLER_GONE_STATUS = 499;
/** Routes logged at debug: probes, scrapes, the status page's polling and the docs' static files. */
const QUIET_ROUTES = new Set(['healthz', 'readyz', 'metrics', 'status', 'docs']);
/** Routes that get a request span when tracing is on: the ones that call Wallaroo. */
const TRACED_ROUTES = new Set(['infer', 'openai']);
/** Caller-controlled text is cut to this length in the log line. */
const TEXT_LIMIT = 256;

const round = (value: number | undefined, digits: number): number | undefined =>
  value === undefined ? undefined : Math.round(value * digits) / digits;

function pathOf(url: string): string {
  const query = url.indexOf('?');
  // The query string is left out: it is the caller's business, and could carry anything.
  return (query < 0 ? url : url.slice(0, query)).slice(0, TEXT_LIMIT);
}

function userAgentOf(request: FastifyRequest): string | undefined {
  const agent = request.headers['user-agent'];
  return agent === undefined ? undefined : agent.slice(0, TEXT_LIMIT);
}

function bytesSent(reply: FastifyReply, known: number | undefined): number | undefined {
  if (known !== undefined) return known;
  const length = reply.getHeader('content-length');
  return length === undefined ? undefined : Number(length);
}

export const accessLog = fp(async (app: FastifyInstance, options: AccessLogOptions) => {
  const { metrics, tracing } = options;
  const pipelines = new Set(options.pipelines);
  const pipelineOf = (request: FastifyRequest): string | undefined => {
    const name = (request.params as { name?: string } | undefined)?.name;
    return name !== undefined && pipelines.has(name) ? name : undefined;
  };

  const write = (request: FastifyRequest, reply: FastifyReply, status: number, abandoned: boolean) => {
    const { stats, trace } = request;
    const pipeline = stats.pipeline ?? '';
    metrics.requests.inc({ pipeline, route: stats.route, status: String(status) });
    metrics.requestDuration.observe({ pipeline, route: stats.route }, reply.elapsedTime / 1000);
    const bytesOut = abandoned ? stats.bytesOut : bytesSent(reply, stats.bytesOut);
    if (status >= 500 && stats.pipeline !== undefined) {
      options.onFailure(stats.pipeline, status, stats.error?.code ?? null, stats.error?.message ?? `Wallaroo answered ${stats.upstreamStatus ?? status}`);
    }
    trace.finish({
      statusCode: status,
      pipeline: stats.pipeline,
      upstreamStatus: stats.upstreamStatus,
      engineMs: stats.engineMs,
      bytesIn: stats.bytesIn,
      bytesOut,
      errorCode: stats.error?.code,
      abandoned,
    });
    request.log[QUIET_ROUTES.has(stats.route) ? 'debug' : 'info'](
      {
        method: request.method,
        path: pathOf(request.url),
        route: stats.route,
        pipeline: stats.pipeline,
        caller: request.caller?.id,
        status,
        code: stats.error?.code,
        upstreamStatus: stats.upstreamStatus,
        durationMs: round(reply.elapsedTime, 100),
        upstreamMs: round(stats.upstreamMs, 100),
        conversionMs: round(stats.conversionMs, 100),
        engineMs: round(stats.engineMs, 1000),
        firstByteMs: round(stats.firstByteMs, 100),
        bytesIn: stats.bytesIn,
        bytesOut,
        replays: stats.replays?.length ? stats.replays : undefined,
        retries: stats.retries,
        batchId: stats.batchId,
        batchSize: stats.batchSize,
        clientAddress: request.ip,
        userAgent: userAgentOf(request),
        traceId: trace.traceId ?? traceIdFromHeader(request.headers.traceparent),
      },
      'request',
    );
  };

  app.decorateRequest('stats', null as never);
  app.decorateRequest('trace', null as never);
  // Callback-style hooks: they run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.config?.route ?? 'other';
    request.stats = { route, pipeline: pipelineOf(request) };
    request.trace = NO_TRACE;
    if (tracing && TRACED_ROUTES.has(route)) {
      request.trace = tracing.startRequest({
        method: request.method,
        route: request.routeOptions.url ?? '',
        path: pathOf(request.url),
        clientAddress: request.ip,
        userAgent: userAgentOf(request),
        requestId: request.id,
        headers: request.headers,
      });
    }
    reply.header('x-request-id', request.id);
    // Fastify's onResponse runs only for answers that finished: a caller that left gets its line here, and so
    // does an answer the gateway cut short (Wallaroo's answer failed mid-relay), under its error's status.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      request.stats.error ??= { code: 'GW_CALLER_GONE', message: 'the caller closed the connection' };
      const { code } = request.stats.error;
      write(request, reply, Object.hasOwn(ERROR_CATALOG, code) ? ERROR_CATALOG[code as ErrorCode].statusCode : CALLER_GONE_STATUS, true);
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    write(request, reply, reply.statusCode, false);
    done();
  });
  // The coded error a request is answered with, for its line (set before the answer goes out).
  app.addHook('onError', (request, _reply, error, done) => {
    const gatewayError = toGatewayError(error);
    request.stats.error = { code: gatewayError.code, message: gatewayError.message };
    done();
  });
}, { name: 'wallaroo-gateway-access-log' });
