import rateLimitPlugin, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { PipelineConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { mirrorLegacyRateLimitHeaders } from '../limits/rate-limit.ts';
import { pipelineOpenApiYaml } from '../openapi/openapi.ts';
import type { RequestContext, RequestContexts } from './context.ts';
import type { InferenceRoute } from './inference.ts';
import type { OpenAiEndpoint, OpenAiRoute } from './openai.ts';
import type { PipelineStatus } from './status.ts';

// The pipeline routes: inference, the OpenAI-compatible pair, each pipeline's OpenAPI document and the listing.
// Bodies of the POST routes reach the handlers as the raw stream (no parsing). Each POST creates the request's
// context (deadline, caller-gone signal, stats) and counts it in flight until its answer has gone out.

export interface ProxyRoutesOptions {
  pipelines: ReadonlyMap<string, PipelineConfig>;
  inference: InferenceRoute;
  openAi: OpenAiRoute;
  /** Counts the request in flight until its answer has gone out. */
  track(pipeline: PipelineConfig, reply: FastifyReply): void;
  /** Every request's context while it is in flight (ended all at once when the shutdown grace runs out). */
  contexts: RequestContexts;
  status(): PipelineStatus[];
  /** Identifies callers and applies allow lists (callers/), or null when callers.authentication is none. */
  callers: FastifyPluginCallback | null;
  /** @fastify/rate-limit options for the POST routes, or null when no limit is configured. */
  rateLimit: RateLimitPluginOptions | null;
  /** Shed POST requests while the mean event-loop delay exceeds this (ms); 0 turns shedding off. */
  maxEventLoopDelayMs: number;
}

export function pipelineFor(pipelines: ReadonlyMap<string, PipelineConfig>, request: FastifyRequest): PipelineConfig {
  const { name } = request.params as { name: string };
  const pipeline = pipelines.get(name);
  if (!pipeline) {
    // Never echo arbitrary path text back at length.
    throw new GatewayError('GW_PIPELINE_NOT_FOUND', `no pipeline named ${JSON.stringify(name.slice(0, 64))} is configured`);
  }
  request.stats.pipeline = pipeline.name;
  return pipeline;
}

export async function proxyRoutes(app: FastifyInstance, options: ProxyRoutesOptions): Promise<void> {
  const { pipelines } = options;
  /** The request's context, counted in flight until its answer is fully sent (streams outlive handlers). */
  const contextFor = (request: FastifyRequest, reply: FastifyReply): RequestContext => {
    const pipeline = pipelineFor(pipelines, request);
    options.track(pipeline, reply);
    return options.contexts.start(pipeline, request.stats, request.trace, reply);
  };

  const errorResponses = Object.fromEntries(['4xx', '5xx'].map((status) => [status, { $ref: 'GatewayError#' }]));
  const nameParam = { type: 'object', properties: { name: { type: 'string', description: 'a configured pipeline name' } }, required: ['name'] };

  app.get('/pipelines/:name/openapi.yaml', {
    config: { route: 'pipeline-openapi' },
    schema: { summary: "OpenAPI 3.1.1 for one pipeline's inference route", tags: ['pipelines'], params: nameParam, produces: ['application/yaml'], response: errorResponses },
  }, async (request, reply) => {
    const pipeline = pipelineFor(pipelines, request);
    return reply.header('content-type', 'application/yaml; charset=utf-8').send(pipelineOpenApiYaml(pipeline));
  });

  const nullableString = { type: ['string', 'null'] };
  const lastError = { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' }, at: { type: 'string' } } };
  app.get('/pipelines', {
    config: { route: 'pipelines' },
    schema: {
      summary: 'The configured pipelines: workspace, resolved URL host, cache age, breaker state, in-flight count, last errors, allow list',
      tags: ['pipelines'],
      response: {
        200: {
          type: 'object',
          properties: {
            pipelines: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  workspace: { type: ['string', 'integer', 'null'] },
                  pipeline: { type: 'string' },
                  upstreamFormat: { type: 'string' },
                  urlHost: nullableString,
                  cacheAgeSeconds: { type: ['integer', 'null'] },
                  breaker: { type: 'string', enum: ['closed', 'open', 'half-open'] },
                  inflight: { type: 'integer' },
                  queued: { type: 'integer' },
                  lastDiscoveryError: lastError,
                  lastUpstreamError: {
                    type: ['object', 'null'],
                    properties: { code: { type: ['string', 'null'] }, message: { type: 'string' }, at: { type: 'string' }, status: { type: 'integer' } },
                  },
                  allow: { type: ['array', 'null'], items: { type: 'string' } },
                  batchWaiting: { type: ['integer', 'null'] },
                },
              },
            },
          },
        },
      },
    },
  }, async () => ({ pipelines: options.status() }));

  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  await app.register(async (scope) => {
    // Leave the body unread: the handlers stream it, or read it under their own limits when converting.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    // Load shedding for the POST routes only: a saturated process answers new work with a quick 503 rather than
    // making every request in flight slower, while health and metrics keep answering (a liveness probe failing
    // under load would restart the pod and move the load elsewhere). Before the rate limit, so a shed request
    // does not use up its caller's quota.
    if (options.maxEventLoopDelayMs > 0) {
      await scope.register(underPressure, {
        maxEventLoopDelay: options.maxEventLoopDelayMs,
        // A rejection reaches the error handler, which answers in the gateway's error format.
        pressureHandler: (_request, _reply, _type, delay) =>
          Promise.reject(new GatewayError('GW_OVERLOADED', `the gateway is overloaded (event-loop delay ${Math.round(Number(delay))} ms); retry shortly`, { headers: { 'retry-after': '1' } })),
      });
    }
    // Who is calling, before the rate limit (which may key on the identity) and before the body is read.
    if (options.callers) await scope.register(options.callers);
    if (options.rateLimit) {
      await scope.register(rateLimitPlugin, options.rateLimit);
      scope.addHook('onSend', (_request, reply, payload, done) => {
        mirrorLegacyRateLimitHeaders((name) => reply.getHeader(name), (name, value) => reply.header(name, value));
        done(null, payload);
      });
    }

    scope.post('/pipelines/:name/infer', {
      config: { route: 'infer', invitesBody: true },
      schema: {
        summary: 'Inference on a configured pipeline (pandas-records JSON or Arrow IPC; see GET /pipelines/{name}/openapi.yaml)',
        tags: ['inference'],
        params: nameParam,
        response: errorResponses,
      },
    }, async (request, reply) => options.inference.handle(contextFor(request, reply), request, reply));

    for (const endpoint of ['completions', 'chat/completions'] as OpenAiEndpoint[]) {
      scope.post(`/pipelines/:name/openai/v1/${endpoint}`, {
        config: { route: 'openai', invitesBody: true },
        schema: {
          summary: `OpenAI-compatible ${endpoint} on a pipeline with an OpenAI-compatible model ("stream": true relays Server-Sent Events)`,
          tags: ['openai'],
          params: nameParam,
          response: errorResponses,
        },
      }, async (request, reply) => options.openAi.handle(contextFor(request, reply), endpoint, request, reply));
    }
  });
  // Any other method on these paths: 405 with Allow: POST, from the not-found handler (errors.ts, answerNoRoute).
}
