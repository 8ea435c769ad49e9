import type { FastifyReply } from 'fastify';
import type { Gauge } from 'prom-client';
import type { PipelineConfig } from '../config/types.ts';
import type { PipelineDirectory } from '../discovery/directory.ts';
import type { CircuitState } from '../limits/breaker.ts';
import type { AdmissionGate } from '../limits/admission.ts';

// What `GET /pipelines` (and the status page) shows of each pipeline: where it resolves, its breaker, what is in
// flight and queued, and the last failures, so an operator sees why without reading logs. Never a token.

export interface LastError {
  code: string;
  message: string;
  at: string;
}

/** The last failed answer of a pipeline: the gateway's code (null: Wallaroo's own error passed on). */
export interface LastFailure {
  /** Epoch milliseconds. */
  at: number;
  status: number;
  code: string | null;
  message: string;
}

export interface PipelineStatus {
  name: string;
  workspace: string | number | null;
  pipeline: string;
  upstreamFormat: string;
  urlHost: string | null;
  cacheAgeSeconds: number | null;
  breaker: CircuitState;
  inflight: number;
  queued: number;
  lastDiscoveryError: LastError | null;
  /** The last failed answer (code null: Wallaroo's own error passed on). */
  lastUpstreamError: { code: string | null; message: string; at: string; status: number } | null;
  /** Who may call it (callers.authentication on), else null. */
  allow: string[] | null;
  /** Requests waiting for their micro-batch to be sent; null when batching is off for the pipeline. */
  batchWaiting: number | null;
}

/** What the status page reads of a pipeline (ui/status-source.ts PipelineRuntime). */
export interface PipelineRuntime {
  name: string;
  urlHost: string | null;
  cacheAgeSeconds: number | null;
  breaker: CircuitState;
  inflight: number;
  /** Concurrency slots taken (calls to Wallaroo under way). */
  active: number;
  queued: number;
  lastError: LastFailure | null;
  batching: Record<string, number> | null;
}

interface Tracked {
  inflight: number;
  lastFailure: LastFailure | null;
}

export class PipelineTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly pipelines: readonly PipelineConfig[],
    private readonly gateFor: (pipeline: PipelineConfig) => AdmissionGate,
    private readonly directory: PipelineDirectory,
    private readonly inflightGauge: Gauge<'pipeline'>,
    /** The pipeline's batching figures (requests waiting, rows in the last batch); null when batching is off. */
    private readonly batching: (pipeline: PipelineConfig) => Record<string, number> | null = () => null,
  ) {
    for (const pipeline of pipelines) {
      this.tracked.set(pipeline.name, { inflight: 0, lastFailure: null });
      inflightGauge.set({ pipeline: pipeline.name }, 0); // series exist from the start: zeros, not gaps
    }
  }

  /** Counts a request in flight until its answer has gone out (a streamed answer outlives its handler). */
  track(pipeline: PipelineConfig, reply: FastifyReply): void {
    const tracked = this.tracked.get(pipeline.name);
    if (!tracked) return;
    tracked.inflight++;
    this.inflightGauge.set({ pipeline: pipeline.name }, tracked.inflight);
    reply.raw.once('close', () => {
      tracked.inflight--;
      this.inflightGauge.set({ pipeline: pipeline.name }, tracked.inflight);
    });
  }

  noteFailure(pipeline: string, status: number, code: string | null, message: string): void {
    const tracked = this.tracked.get(pipeline);
    if (tracked) tracked.lastFailure = { at: Date.now(), status, code, message: message.slice(0, 300) };
  }

  runtime(): PipelineRuntime[] {
    return this.pipelines.map((p) => {
      const resolved = this.directory.describe(p.name);
      const gate = this.gateFor(p);
      const tracked = this.tracked.get(p.name);
      return {
        name: p.name,
        urlHost: resolved.host,
        cacheAgeSeconds: resolved.ageSeconds,
        breaker: gate.breaker.state,
        inflight: tracked?.inflight ?? 0,
        active: gate.concurrency.inFlight,
        queued: gate.concurrency.queued,
        lastError: tracked?.lastFailure ?? null,
        batching: this.batching(p),
      };
    });
  }

  status(): PipelineStatus[] {
    return this.pipelines.map((p) => {
      const resolved = this.directory.describe(p.name);
      const gate = this.gateFor(p);
      const tracked = this.tracked.get(p.name);
      return {
        name: p.name,
        workspace: p.workspace,
        pipeline: p.pipeline,
        upstreamFormat: p.upstreamFormat,
        urlHost: resolved.host,
        cacheAgeSeconds: resolved.ageSeconds,
        breaker: gate.breaker.state,
        inflight: tracked?.inflight ?? 0,
        queued: gate.concurrency.queued,
        lastDiscoveryError: resolved.lastError,
        lastUpstreamError: failureForListing(tracked?.lastFailure ?? null),
        allow: p.allow,
        batchWaiting: this.batching(p)?.waiting ?? null,
      };
    });
  }
}

function failureForListing(failure: LastFailure | null): PipelineStatus['lastUpstreamError'] {
  return failure && { code: failure.code, message: failure.message, at: new Date(failure.at).toISOString(), status: failure.status };
}
