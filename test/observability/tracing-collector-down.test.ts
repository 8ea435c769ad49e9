import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useOtlpReceiver } from '../helpers/otlp.ts';
import { freePort } from '../helpers/ports.ts';
import { useSimulator } from '../helpers/simulator.ts';

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
  // The first request's two spans (request, upstream) go out in one export, which the collector holds.
  await inferOk(gw.url);
  await collector.waitForRequests(1);

  // While it hangs, requests are answered as usual: ending a span only appends it to the queue.
  for (let i = 0; i < 20; i++) await inferOk(gw.url);
  assert.equal(collector.requests, 1, 'the collector still holds the first export');
  assert.equal(collector.spans.length, 0);

  // One export at a time: the queue filled to its bound (8) and the other 32 spans were dropped, counted.
  assert.equal(await spanCount(gw.registry, 'dropped'), 40 - 8);
  assert.equal(await spanCount(gw.registry, 'exported'), 0);

  // The collector answers again: the first export, then the 8 queued spans, and nothing of the dropped ones.
  // A last request's spans come after everything queued before them, so once they are in, the count is final.
  collector.release();
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(), { 'x-request-id': 'after-release' })).status, 200);
  const spans = await collector.waitFor((all) => all.some((s) => s.attributes['gateway.request_id'] === 'after-release'));
  assert.equal(spans.length, 2 + 8 + 2);
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
    for (let poll = 0; poll < 200 && (await spanCount(gw.registry, 'failed')) < 2 * (i + 1); poll++) await sleep(25);
  }
  assert.equal(await spanCount(gw.registry, 'failed'), 10);
  const warnings = gw.logs.filter((l) => l.msg === 'trace export failed; spans are dropped until the collector answers');
  assert.equal(warnings.length, 1, 'throttled to one line a minute');
  assert.equal(warnings[0]!.level, 'warn');
});
