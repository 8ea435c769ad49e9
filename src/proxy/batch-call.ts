import type { Logger } from 'pino';
import { type BatchCall, Batcher, type WholeAnswer } from '../batching/index.ts';
import type { ConversionLimits, PipelineConfig } from '../config/types.ts';
import { MEDIA_TYPES } from '../convert/negotiate.ts';
import { declaredLength, firstHeader } from '../http/headers.ts';
import type { AdmissionGate, PipelineSlot } from '../limits/admission.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { assertIdentityEncoding, boundAnswerBody, readAnswer } from './answer.ts';
import type { CallContext, RequestContext, RequestStats } from './context.ts';
import { judgeAnswer, verdictOnError } from './inference.ts';
import type { UpstreamClient } from './upstream.ts';

// The micro-batchers of the batched pipelines, and the one call each makes for a batch: the same path as a
// single request's call — one concurrency slot (taken by the batcher) and the breaker, the token and URL, the upstream
// client (so 401 replay, rediscovery and connect retries apply to the whole batch), one verdict for the breaker —
// with the answer read whole so the batcher can split it. What the call learned goes on every member's log line.

export interface BatchCallDeps {
  upstream: UpstreamClient;
  gateFor(pipeline: PipelineConfig): AdmissionGate;
  metrics: GatewayMetrics;
  logger: Logger;
  conversion: ConversionLimits;
  /** Cap on an answer read whole. */
  responseLimit: number;
}

/** One call to Wallaroo for a batch, under the batch's bounds. */
async function callForBatch(deps: BatchCallDeps, pipeline: PipelineConfig, call: BatchCall<RequestContext>, slot: PipelineSlot): Promise<WholeAnswer> {
  const gate = deps.gateFor(pipeline);
  const stats: RequestStats = { route: 'batch', pipeline: pipeline.name };
  // The upstream span joins the first member's trace, so Wallaroo's traceparent names one of the batch's requests.
  const ctx: CallContext = { pipeline, stats, trace: call.members[0]!.trace, signal: call.bounds.signal, deadline: call.bounds.deadline, reservation: null };
  try {
    ctx.reservation = gate.beforeBody();
    ctx.reservation.growTo(call.body.length);
    const target = await deps.upstream.prepare(ctx);
    const sent = await deps.upstream.send(ctx, target, {
      pathSuffix: '',
      query: call.query,
      contentType: MEDIA_TYPES[call.format],
      accept: MEDIA_TYPES[call.answerFormat],
      body: call.body,
      callerHeaders: {},
      requestId: call.requestId,
    }, slot.retryBudget);
    const response = await judgeAnswer(ctx, slot, sent);
    // From here the members' deadlines are met and the body has its own bound, as a lone request's answer has.
    call.answerStarted();
    boundAnswerBody(ctx, response.body, pipeline.timeoutMs);
    assertIdentityEncoding(ctx, response.headers);
    const body = await readAnswer(ctx, response.body, deps.responseLimit, declaredLength(firstHeader(response.headers['content-length'])));
    return { statusCode: response.statusCode, headers: response.headers, body };
  } catch (error) {
    slot.judge(verdictOnError(error));
    throw error;
  } finally {
    slot.release();
    // Members hold their own slices from here on (each reserves what it keeps).
    ctx.reservation?.release();
    for (const member of call.members) {
      member.stats.upstreamMs = stats.upstreamMs;
      member.stats.upstreamStatus = stats.upstreamStatus;
      if (stats.replays) member.stats.replays = [...stats.replays];
      if (stats.retries !== undefined) member.stats.retries = stats.retries;
    }
  }
}

/** A Batcher per pipeline with `batching` set. */
export function createBatchers(pipelines: readonly PipelineConfig[], deps: BatchCallDeps): Map<string, Batcher<RequestContext, PipelineSlot>> {
  const batchers = new Map<string, Batcher<RequestContext, PipelineSlot>>();
  for (const pipeline of pipelines) {
    if (!pipeline.batching) continue;
    const gate = deps.gateFor(pipeline);
    // Series exist from the start: zeros, not gaps.
    deps.metrics.batchRows.zero({ pipeline: pipeline.name });
    deps.metrics.batchWait.zero({ pipeline: pipeline.name });
    const rows = deps.metrics.batchRows.labels(pipeline.name);
    const wait = deps.metrics.batchWait.labels(pipeline.name);
    batchers.set(pipeline.name, new Batcher<RequestContext, PipelineSlot>({
      pipeline: pipeline.name,
      timeoutMs: pipeline.timeoutMs,
      limits: pipeline.batching,
      conversion: deps.conversion,
      idle: () => gate.concurrency.inFlight === 0,
      slot: (bounds) => gate.slot(bounds),
      send: (call, slot) => callForBatch(deps, pipeline, call, slot),
      observeRows: (count) => rows.observe(count),
      observeWaitSeconds: (seconds) => wait.observe(seconds),
      onRowMismatch: (count) =>
        deps.logger.warn(
          { pipeline: pipeline.name, rows: count },
          "Wallaroo's answer to a batch could not be split into its requests' rows (another number of rows than it was sent, as when the pipeline filters or expands rows, or an Arrow answer whose dictionary columns every request's share would repeat): its requests were re-sent one by one; turn batching off for this pipeline",
        ),
    }));
  }
  return batchers;
}
