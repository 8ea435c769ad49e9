import rateLimitPlugin, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { CircuitState } from '../limits/breaker.ts';
import type { PipelineConfig } from '../config/types.ts';
import type { PipelineDirectory } from '../discovery/directory.ts';
import { GatewayError } from '../errors.ts';
import { pipelineOpenApiYaml } from '../observability/openapi.ts';
import type { Forwarder, RequestStats } from './forward.ts';
import type { OpenAiEndpoint, OpenAiForwarder } from './openai.ts';

declare module 'fastify' {
  interface FastifyRequest {
    stats: RequestStats;
  }
  interface FastifyContextConfig {
    route?: string;
  }
}

export interface ProxyRoutesOptions {
  pipelines: ReadonlyMap<string, PipelineConfig>;
  forwarder: Forwarder;
  openAi: OpenAiForwarder;
  directory: PipelineDirectory;
  inflight: Map<string, number>;
  onInflightChange(pipeline: string, count: number): void;
  breakerState(pipeline: string): CircuitState;
  /** Identifies callers and applies allow lists (callers/), or null when callers.authentication is none. */
  callers: FastifyPluginCallback | null;
  /** @fastify/rate-limit options for the inference routes, or null when no limit is configured. */
  rateLimit: RateLimitPluginOptions | null;
  /** Shed inference requests while the mean event-loop delay exceeds this (ms); 0 turns shedding off. */
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

/** The inference route and the pipeline listing. Bodies reach the handler as the raw stream (no parsing). */
export async function proxyRoutes(app: FastifyInstance, options: ProxyRoutesOptions): Promise<void> {
  const { pipelines, forwarder, directory, inflight, onInflightChange, breakerState } = options;
  const track = (name: string, delta: number) => {
    const count = (inflight.get(name) ?? 0) + delta;
    inflight.set(name, count);
    onInflightChange(name, count);
  };
  /** The request's configured pipeline, counted in flight until its answer is fully sent (streams outlive handlers). */
  const trackedPipeline = (request: FastifyRequest, reply: FastifyReply): PipelineConfig => {
    const pipeline = pipelineFor(pipelines, request);
    track(pipeline.name, 1);
    reply.raw.once('close', () => track(pipeline.name, -1));
    return pipeline;
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

  app.get('/pipelines', {
    config: { route: 'pipelines' },
    schema: {
      summary: 'The configured pipelines: workspace, resolved URL host, cache age, breaker state, in-flight count, allow list',
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
                  urlHost: { type: ['string', 'null'] },
                  cacheAgeSeconds: { type: ['integer', 'null'] },
                  breaker: { type: 'string', enum: ['closed', 'open', 'half-open'] },
                  inflight: { type: 'integer' },
                  allow: { type: ['array', 'null'], items: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  }, async () => ({
    pipelines: [...pipelines.values()].map((p) => {
      const resolved = p.url ? { host: new URL(p.url).host, ageSeconds: null } : directory.describe(p.name);
      return {
        name: p.name,
        workspace: p.workspace,
        pipeline: p.pipeline,
        upstreamFormat: p.upstreamFormat,
        urlHost: resolved?.host ?? null,
        cacheAgeSeconds: resolved?.ageSeconds ?? null,
        breaker: breakerState(p.name),
        inflight: inflight.get(p.name) ?? 0,
        allow: p.allow,
      };
    }),
  }));

  await app.register(async (scope) => {
    // Leave the body unread: the forwarder streams it, or reads it under its own limits when converting.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    // Load shedding for the inference routes only: a saturated process answers new work with a quick 503
    // rather than making every request in flight slower, while health and metrics keep answering (a liveness
    // probe failing under load would restart the pod and move the load elsewhere). Before the rate limit, so
    // a shed request does not use up its caller's quota.
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
    if (options.rateLimit) await scope.register(rateLimitPlugin, options.rateLimit);

    scope.post('/pipelines/:name/infer', {
      config: { route: 'infer' },
      schema: {
        summary: 'Inference on a configured pipeline (pandas-records JSON or Arrow IPC; see GET /pipelines/{name}/openapi.yaml)',
        tags: ['inference'],
        params: nameParam,
        response: errorResponses,
      },
    }, async (request, reply) => forwarder.infer(trackedPipeline(request, reply), request, reply, request.stats));

    for (const endpoint of ['completions', 'chat/completions'] as OpenAiEndpoint[]) {
      scope.post(`/pipelines/:name/openai/v1/${endpoint}`, {
        config: { route: 'openai' },
        schema: {
          summary: `OpenAI-compatible ${endpoint} on a pipeline with an OpenAI-compatible model ("stream": true relays Server-Sent Events)`,
          tags: ['openai'],
          params: nameParam,
          response: errorResponses,
        },
      }, async (request, reply) => options.openAi.forward(trackedPipeline(request, reply), endpoint, request, reply, request.stats));
    }
  });
}
