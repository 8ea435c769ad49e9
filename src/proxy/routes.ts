import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PipelineConfig } from '../config/load.ts';
import type { PipelineDirectory } from '../discovery/directory.ts';
import { GatewayError } from '../errors.ts';
import type { Forwarder, RequestStats } from './forward.ts';

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
  directory: PipelineDirectory;
  inflight: Map<string, number>;
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
  const { pipelines, forwarder, directory, inflight } = options;

  app.get('/pipelines', { config: { route: 'pipelines' } }, async () => ({
    pipelines: [...pipelines.values()].map((p) => {
      const resolved = p.url ? { host: new URL(p.url).host, ageSeconds: null } : directory.describe(p.name);
      return {
        name: p.name,
        workspace: p.workspace,
        pipeline: p.pipeline,
        upstreamFormat: p.upstreamFormat,
        urlHost: resolved?.host ?? null,
        cacheAgeSeconds: resolved?.ageSeconds ?? null,
        breaker: 'closed',
        inflight: inflight.get(p.name) ?? 0,
      };
    }),
  }));

  await app.register(async (scope) => {
    // Leave the body unread: the forwarder streams it, or reads it under its own limits when converting.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));

    scope.post('/pipelines/:name/infer', { config: { route: 'infer' } }, async (request, reply) => {
      const pipeline = pipelineFor(pipelines, request);
      inflight.set(pipeline.name, (inflight.get(pipeline.name) ?? 0) + 1);
      try {
        return await forwarder.forward(pipeline, request, reply, request.stats);
      } finally {
        inflight.set(pipeline.name, (inflight.get(pipeline.name) ?? 1) - 1);
      }
    });
  });
}
