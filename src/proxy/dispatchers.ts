import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import type { GatewayConfig, PipelineConfig } from '../config/types.ts';

/**
 * undici Agents (keep-alive pools per origin). Inference gets one Agent per distinct connect timeout;
 * the control plane (tokens, MLOps API) has its own, so a flood of inference traffic cannot starve a
 * token refresh of connections.
 */
export class Dispatchers {
  readonly control: Agent;
  private readonly inference = new Map<number, Agent>();
  private readonly tls: { ca?: string; rejectUnauthorized: boolean };

  constructor(config: GatewayConfig) {
    this.tls = {
      rejectUnauthorized: config.wallaroo.tls.rejectUnauthorized,
      ...(config.wallaroo.tls.caFile ? { ca: readFileSync(config.wallaroo.tls.caFile, 'utf8') } : {}),
    };
    this.control = new Agent({ connect: { ...this.tls, timeout: 5_000 }, keepAliveTimeout: 30_000 });
  }

  forPipeline(pipeline: PipelineConfig): Agent {
    let agent = this.inference.get(pipeline.connectTimeoutMs);
    if (!agent) {
      agent = new Agent({
        connect: { ...this.tls, timeout: pipeline.connectTimeoutMs },
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
      });
      this.inference.set(pipeline.connectTimeoutMs, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([this.control.close(), ...[...this.inference.values()].map((agent) => agent.close())]);
  }
}
