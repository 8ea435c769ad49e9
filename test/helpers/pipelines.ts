import { call } from './http.ts';

export interface PipelineListing {
  name: string;
  breaker: string;
  inflight: number;
  queued: number;
  lastDiscoveryError: { code: string; message: string } | null;
  lastUpstreamError: { code: string; message: string } | null;
}

/** One pipeline's entry in GET /pipelines: breaker, in-flight and queued counts, last errors. */
export async function pipelineStatus(gatewayUrl: string, name: string): Promise<PipelineListing> {
  const listing = (await call(`${gatewayUrl}/pipelines`)).json<{ pipelines: PipelineListing[] }>();
  const entry = listing.pipelines.find((p) => p.name === name);
  if (!entry) throw new Error(`no pipeline ${name} in /pipelines`);
  return entry;
}
