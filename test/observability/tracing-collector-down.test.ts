import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Registry } from 'prom-client';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useOtlpReceiver } from '../helpers/otlp.ts';
import { freePort } from '../helpers/ports.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

async function inferOk(gatewayUrl: string): Promise<void> {
  const answer = await infer(gatewayUrl, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200, answer.text);
}

async function spanCount(registry: Registry, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric('wallaroo_gateway_trace_spans_total')!.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

test('tracing: a collector that takes the export and never answers costs requests nothing, and the span queue stays bounded', async (t) => {
  const collector = await useOtlpReceiver(t, { hang: true });
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: SERVER_WITHOUT_SHEDDING,
    pipelines: [{ name: 'ccfraud', workspace: 'demo' }],
    tracing: { enabled: true, endpoint: collector.url, exportIntervalMs: 10, maxQueueSize: 8, maxExportBatchSize: 4, exportTimeoutMs: 120_000 },
  }));
  // The first request's first spans go out in one export (at most maxExportBatchSize), which the collector holds.
  await inferOk(gw.url);
  await collector.waitForRequests(1);

  // While it hangs, requests are answered as usual: ending a span only appends it to the queue.
  for (let i = 0; i < 20; i++) await inferOk(gw.url);
  assert.equal(collector.requests, 1, 'the collector still holds the first export');
  assert.equal(collector.spans.length, 0);

  // One export at a time: the queue filled to its bound (8) and every other span was dropped, counted.
  const dropped = await spanCount(gw.registry, 'dropped');
  assert.ok(dropped > 0, 'spans beyond the queue were dropped');
  assert.equal(await spanCount(gw.registry, 'exported'), 0);

  // The collector answers again: the first export, then the 8 queued spans, and nothing of the dropped ones.
  // A last request's spans come after everything queued before them, so once they are in, the count is final.
  collector.release();
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(), { 'x-request-id': 'after-release' })).status, 200);
  const spans = await collector.waitFor((all) => {
    const last = all.find((s) => s.attributes['gateway.request_id'] === 'after-release');
    return last !== undefined && all.filter((s) => s.traceId === last.traceId).length >= 4;
  });
  const lastTrace = spans.find((s) => s.attributes['gateway.request_id'] === 'after-release')!.traceId;
  const perRequest = spans.filter((s) => s.traceId === lastTrace).length; // request, body_read, admission, upstream
  const before = spans.length - perRequest;
  const firstBatch = before - 8;
  assert.ok(firstBatch >= 1 && firstBatch <= 4, `the held export (${firstBatch} spans) and exactly the 8 queued spans arrived (${before} in all)`);
  // Every span ended before the release was either received or dropped: the first request's (its warm spans,
  // plus discovery on the cold path) and the 20 others'.
  const firstRequest = before + dropped - 20 * perRequest;
  assert.ok(firstRequest >= perRequest && firstRequest <= perRequest + 2, `the first request ended ${firstRequest} spans`);
});

test('tracing: an unreachable collector costs requests nothing; failed exports are counted and logged once', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: SERVER_WITHOUT_SHEDDING,
    pipelines: [{ name: 'ccfraud', workspace: 'demo' }],
    tracing: { enabled: true, endpoint: `http://127.0.0.1:${await freePort()}/v1/traces`, exportIntervalMs: 10, exportTimeoutMs: 300 },
  }));
  for (let i = 0; i < 5; i++) {
    await inferOk(gw.url);
    // Bounded wait for this request's spans to be refused, so several exports fail in turn.
    // Each request ends at least four spans (the request, body read, admission, upstream).
    await waitFor(async () => (await spanCount(gw.registry, 'failed')) >= 4 * (i + 1), `the spans of request ${i + 1} counted as failed`, 15_000, 25);
  }
  assert.ok((await spanCount(gw.registry, 'failed')) >= 20, 'every span was offered and counted as failed');
  assert.equal(await spanCount(gw.registry, 'exported'), 0);
  const warnings = gw.logs.filter((l) => l.msg === 'trace export failed; spans are dropped until the collector answers');
  assert.equal(warnings.length, 1, 'throttled to one line a minute');
  assert.equal(warnings[0]!.level, 'warn');
});
