import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { PipelineRuntime, StatusSource } from '../../src/ui/status-source.ts';
import { histogramQuantile, StatusReporter } from '../../src/ui/status.ts';

test('histogramQuantile follows PromQL: linear within the bucket, the highest finite bound for the +Inf bucket, null when empty', () => {
  const bounds = [1, 2, 4];
  const cumulative = [2, 6, 8, 10]; // le=1: 2, le=2: 6, le=4: 8, +Inf: 10
  assert.equal(histogramQuantile(0.1, bounds, cumulative), 0.5);
  assert.equal(histogramQuantile(0.5, bounds, cumulative), 1.75);
  assert.equal(histogramQuantile(0.7, bounds, cumulative), 3);
  assert.equal(histogramQuantile(0.99, bounds, cumulative), 4);
  assert.equal(histogramQuantile(0.5, bounds, [0, 0, 0, 0]), null);
});

test('status report: rates, error ratio and percentiles over the window from the registry; runtime state from the source', async () => {
  const config = parseConfig({
    wallaroo: { url: 'https://wallaroo.example.com', auth: { clientSecret: 'not-shown' } },
    pipelines: [
      { name: 'ccfraud', workspace: 'urlworkspace', pipeline: 'urlpipeline', rateLimit: { max: 5, timeWindow: '1s' } },
      { name: 'churn', url: 'https://wallaroo.example.com/v1/api/pipelines/infer/churn-3/churn', maxConcurrency: 4, maxQueue: 8 },
    ],
  }, {});
  const registry = new Registry();
  const metrics = createMetrics(registry, { defaultMetrics: false });
  let now = 1_000_000;
  const runtime: PipelineRuntime = {
    name: 'ccfraud', urlHost: 'wallaroo.example.com', cacheAgeSeconds: 12, breaker: 'open', inflight: 3, active: 2, queued: 1,
    lastError: { at: 999_000, status: 503, code: 'GW_CIRCUIT_OPEN', message: 'pipeline ccfraud: failing fast' }, batching: null,
  };
  const source: StatusSource = {
    pipelines: () => [runtime],
    tokens: () => [{ kind: 'inference', valid: true, lastError: { at: 998_000, message: 'token endpoint answered 503' } }],
    draining: () => false,
  };
  const reporter = new StatusReporter({ config, registry, source, version: '1.2.3', now: () => now });
  metrics.tokenExpiry.set({ kind: 'inference' }, now / 1000 + 240);

  // Before any traffic and on the first poll: totals only, no window yet.
  metrics.requests.inc({ pipeline: 'ccfraud', route: 'infer', status: '200' }, 4);
  const first = await reporter.report();
  assert.deepEqual(first.gateway, { version: '1.2.3', uptimeSeconds: 0, draining: false, tracing: { enabled: false, sampleRatio: 1 }, windowSeconds: null, generatedAt: now });
  assert.deepEqual(first.tokens, [{ kind: 'inference', valid: true, expiresAt: now / 1000 + 240, expiresInSeconds: 240, lastError: { at: 998_000, message: 'token endpoint answered 503' } }]);
  const [ccfraud, churn] = first.pipelines;
  assert.deepEqual(ccfraud, {
    name: 'ccfraud', workspace: 'urlworkspace', pipeline: 'urlpipeline', urlHost: 'wallaroo.example.com', cacheAgeSeconds: 12,
    breaker: 'open', inflight: 3, active: 2, maxConcurrency: 64, queued: 1, maxQueue: 256,
    requests: { total: 4, perSecond: null, errorRatio: null, p50Ms: null, p99Ms: null, engineP50Ms: null },
    rateLimit: { max: 5, timeWindowMs: 1000, limitedTotal: 0, limitedPerSecond: null },
    batching: null,
    lastError: { at: 999_000, status: 503, code: 'GW_CIRCUIT_OPEN', message: 'pipeline ccfraud: failing fast' },
  });
  // A pipeline the source does not (yet) describe still shows, with its configured limits.
  assert.equal(churn!.breaker, 'closed');
  assert.equal(churn!.maxConcurrency, 4);
  assert.equal(churn!.rateLimit, null);

  // Two seconds later: the window reaches back to the start, when every counter was zero, so the 4 answers
  // before the first poll count too: 20 answers of which 4 are 5xx, on infer and openai; health checks do not count.
  now += 2_000;
  metrics.requests.inc({ pipeline: 'ccfraud', route: 'infer', status: '200' }, 10);
  metrics.requests.inc({ pipeline: 'ccfraud', route: 'infer', status: '503' }, 3);
  metrics.requests.inc({ pipeline: 'ccfraud', route: 'openai', status: '502' }, 1);
  metrics.requests.inc({ pipeline: 'ccfraud', route: 'openai', status: '200' }, 2);
  metrics.requests.inc({ pipeline: '', route: 'healthz', status: '200' }, 50);
  for (let i = 0; i < 8; i++) metrics.requestDuration.observe({ pipeline: 'ccfraud', route: 'infer' }, 0.004); // le 0.005
  for (let i = 0; i < 2; i++) metrics.requestDuration.observe({ pipeline: 'ccfraud', route: 'infer' }, 0.2); // le 0.25
  for (let i = 0; i < 4; i++) metrics.engineElapsed.observe({ pipeline: 'ccfraud' }, 0.0007); // le 0.001
  metrics.rateLimited.inc({ pipeline: 'ccfraud' }, 6);
  const second = await reporter.report();
  assert.equal(second.gateway.windowSeconds, 2);
  const r = second.pipelines[0]!.requests;
  assert.equal(r.total, 20);
  assert.equal(r.perSecond, 10);
  assert.equal(r.errorRatio, 4 / 20);
  assert.ok(Math.abs(r.p50Ms! - 4.0625) < 1e-9, `p50 ${r.p50Ms}`); // rank 5 of 10: 5/8 of the way through (2.5 ms, 5 ms]
  assert.ok(Math.abs(r.p99Ms! - 242.5) < 1e-9, `p99 ${r.p99Ms}`); // rank 9.9: 1.9/2 of the way through (100 ms, 250 ms]
  assert.ok(Math.abs(r.engineP50Ms! - 0.75) < 1e-9, `engine p50 ${r.engineP50Ms}`);
  assert.deepEqual(second.pipelines[0]!.rateLimit, { max: 5, timeWindowMs: 1000, limitedTotal: 6, limitedPerSecond: 3 });

  // A poll right after another reports over the same window, from the start: samples are kept 5 s apart.
  now += 500;
  const soon = await reporter.report();
  assert.equal(soon.gateway.windowSeconds, 2.5);
  assert.equal(soon.pipelines[0]!.requests.perSecond, 8);

  // Idle past the window: the old samples are gone, so the next poll starts a new window.
  now += 61_000;
  const idle = await reporter.report();
  assert.equal(idle.gateway.windowSeconds, null);
  assert.equal(idle.pipelines[0]!.requests.perSecond, null);
  now += 1_000;
  const resumed = await reporter.report();
  assert.equal(resumed.gateway.windowSeconds, 1);
  assert.equal(resumed.pipelines[0]!.requests.perSecond, 0);
  assert.equal(resumed.pipelines[0]!.requests.p50Ms, null, 'no requests in the window');
});
