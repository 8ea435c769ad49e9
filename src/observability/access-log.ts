import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayMetrics } from './metrics.ts';
import type {} from '../http/caller.ts'; // request.caller
import './request-stats.ts';

// One JSON line per request, written when its answer has gone out — or when the caller left before it did
// (status 499, as nginx logs it) — with gateway, upstream and engine time split, and the request metrics from the
// same facts. Health, readiness and metrics probes log at debug only.

export interface AccessLogOptions {
  metrics: GatewayMetrics;
  /** Names the request's pipeline from its path at arrival, so even a 429 is counted under it. */
  pipelineOf(request: { params: unknown }): string | undefined;
  /** A failed pipeline request (status >= 500), for the pipeline's "last error" in /pipelines. */
  onFailure(pipeline: string, code: string, message: string): void;
}

/** nginx's status for a request whose caller left before the answer: never sent, logged and counted. */
const CALLER_GONE_STATUS = 499;
const QUIET_ROUTES = new Set(['healthz', 'readyz', 'metrics']);
const round = (value: number | undefined, digits: number) => (value === undefined ? undefined : Math.round(value * digits) / digits);

export function accessLog(app: FastifyInstance, options: AccessLogOptions): void {
  const { metrics } = options;
  app.decorateRequest('stats', null as never);
  // Callback-style hooks: they run on every request, and an async hook costs a promise each time.
  const write = (request: FastifyRequest, reply: FastifyReply, status: number) => {
    const { stats } = request;
    const pipeline = stats.pipeline ?? '';
    metrics.requests.inc({ pipeline, route: stats.route, status: String(status) });
    metrics.requestDuration.observe({ pipeline, route: stats.route }, reply.elapsedTime / 1000);
    if (stats.error && status >= 500 && stats.pipeline) options.onFailure(stats.pipeline, stats.error.code, stats.error.message);
    request.log[QUIET_ROUTES.has(stats.route) ? 'debug' : 'info'](
      {
        method: request.method,
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
        bytesOut: stats.bytesOut,
        replays: stats.replays?.length ? stats.replays : undefined,
        retries: stats.retries,
      },
      'request',
    );
  };
  app.addHook('onRequest', (request, reply, done) => {
    request.stats = { route: request.routeOptions.config?.route ?? 'other', pipeline: options.pipelineOf(request) };
    reply.header('x-request-id', request.id);
    // Fastify's onResponse runs only for answers that finished: a caller that left gets its line here.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      if (!request.stats.error) request.stats.error = { code: 'GW_CALLER_GONE', message: 'the caller closed the connection' };
      write(request, reply, CALLER_GONE_STATUS);
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    write(request, reply, reply.statusCode);
    done();
  });
}
