// Once per request, when the answer has gone out: the access log line, the request metrics, the end of the
// request's span, and the pipeline's last error for the status page. Also starts the request's trace
// (`request.trace`, see tracing.ts) as the request arrives.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { toGatewayError } from '../errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { RecentErrors } from './recent-errors.ts';
import { type ActiveTrace, NO_TRACE, traceIdFromHeader, type Tracing } from './tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's trace: phases and the upstream call report to it (a no-op when tracing is off). */
    trace: ActiveTrace;
  }
}

/** The per-request facts the request path collects (proxy/'s RequestStats), as the log line reads them. */
export interface AccessLogStats {
  route: string;
  pipeline?: string | undefined;
  upstreamStatus?: number | undefined;
  upstreamMs?: number | undefined;
  conversionMs?: number | undefined;
  engineMs?: number | undefined;
  firstByteMs?: number | undefined;
  bytesIn?: number | undefined;
  bytesOut?: number | undefined;
  replays?: string[] | undefined;
  retries?: number | undefined;
}

export interface AccessLogOptions {
  metrics: GatewayMetrics;
  tracing: Tracing | null;
  recentErrors: RecentErrors;
  statsOf(request: FastifyRequest): AccessLogStats;
}

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
  const { metrics, tracing, recentErrors, statsOf } = options;
  /** The coded error a request was answered with; set only on the error path. */
  const failures = new WeakMap<FastifyRequest, { code: string; message: string }>();

  app.decorateRequest('trace', null as never);
  app.addHook('onRequest', (request, reply, done) => {
    request.trace = NO_TRACE;
    if (tracing && TRACED_ROUTES.has(statsOf(request).route)) {
      const trace = tracing.startRequest({
        method: request.method,
        route: request.routeOptions.url ?? '',
        path: pathOf(request.url),
        clientAddress: request.ip,
        userAgent: userAgentOf(request),
        requestId: request.id,
        headers: request.headers,
      });
      request.trace = trace;
      // A caller that leaves before its answer is complete gets no onResponse: end the span here instead.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) trace.finish({ statusCode: reply.statusCode, pipeline: statsOf(request).pipeline, abandoned: true });
      });
    }
    done();
  });

  app.addHook('onError', (request, _reply, error, done) => {
    const gatewayError = toGatewayError(error);
    failures.set(request, { code: gatewayError.code, message: gatewayError.message });
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const stats = statsOf(request);
    const pipeline = stats.pipeline ?? '';
    const status = reply.statusCode;
    metrics.requests.inc({ pipeline, route: stats.route, status: String(status) });
    metrics.requestDuration.observe({ pipeline, route: stats.route }, reply.elapsedTime / 1000);
    const failure = failures.get(request);
    const bytesOut = bytesSent(reply, stats.bytesOut);
    if (status >= 500 && stats.pipeline !== undefined) {
      recentErrors.recordPipeline(stats.pipeline, failure
        ? { status, code: failure.code, message: failure.message }
        : { status, code: null, message: `Wallaroo answered ${stats.upstreamStatus ?? status}` });
    }
    const { trace } = request;
    trace.finish({
      statusCode: status,
      pipeline: stats.pipeline,
      upstreamStatus: stats.upstreamStatus,
      engineMs: stats.engineMs,
      bytesIn: stats.bytesIn,
      bytesOut,
      errorCode: failure?.code,
    });
    request.log[QUIET_ROUTES.has(stats.route) ? 'debug' : 'info'](
      {
        method: request.method,
        path: pathOf(request.url),
        route: stats.route,
        pipeline: stats.pipeline,
        status,
        code: failure?.code,
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
        clientAddress: request.ip,
        userAgent: userAgentOf(request),
        traceId: trace.traceId ?? traceIdFromHeader(request.headers.traceparent),
      },
      'request',
    );
    done();
  });
}, { name: 'wallaroo-gateway-access-log' });
