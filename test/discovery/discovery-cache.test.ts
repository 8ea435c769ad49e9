import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

async function cacheCounts(registry: import('prom-client').Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('wallaroo_gateway_discovery_cache_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

test('a workspace name resolves to its id, the URL is cached, and /pipelines shows host and age', async (t) => {
  const simulator = await useSimulator(t);
  let clock = 1_000_000; // the cache's age is read on an injected clock, however slow the machine
  const gw = await startGateway(t, simulatorConfig(simulator), {}, { now: () => clock });
  for (let i = 0; i < 5; i++) assert.equal((await infer(gw.url, 'urlpipeline', ccfraudBody())).status, 200);
  assert.equal(simulator.control.counts.mlops, 2, 'workspaces/list + get_pipeline_external_url, once');
  assert.deepEqual(await cacheCounts(gw.registry), { miss: 1, hit: 4 });
  assert.match(simulator.control.seen.at(-1)!.url, /^\/v1\/api\/pipelines\/infer\/urlpipeline-260\/urlpipeline$/);

  const listing = (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<Record<string, unknown>> }>();
  const entry = listing.pipelines.find((p) => p.name === 'urlpipeline')!;
  assert.equal(entry.workspace, 'urlworkspace');
  assert.equal(entry.urlHost, new URL(simulator.url).host);
  assert.equal(entry.cacheAgeSeconds, 0);
  assert.equal(listing.pipelines.find((p) => p.name === 'summary')!.urlHost, null, 'not resolved yet');
  clock += 42_000;
  const later = (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<Record<string, unknown>> }>();
  assert.equal(later.pipelines.find((p) => p.name === 'urlpipeline')!.cacheAgeSeconds, 42);
});

test('concurrent misses for one pipeline share one lookup', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  await call(`${gw.url}/readyz`);
  const answers = await Promise.all(Array.from({ length: 25 }, () => infer(gw.url, 'summary', '[{"a":1}]')));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  // summary is configured by workspace id (8): no workspaces/list, one get_pipeline_external_url.
  assert.equal(simulator.control.counts.mlops, 1);
});

test('after the TTL the URL is looked up again, not before', async (t) => {
  const simulator = await useSimulator(t);
  let clock = 1_000_000;
  const gw = await startGateway(t, simulatorConfig(simulator, { discovery: { ttlSeconds: 60 } }), {}, { now: () => clock });
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200);
  assert.equal(simulator.control.counts.mlops, 1);
  clock += 59_999;
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200);
  assert.equal(simulator.control.counts.mlops, 1, 'still cached just before the TTL');
  clock += 2;
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200);
  assert.equal(simulator.control.counts.mlops, 2, 'looked up again after the TTL');
});

test('an explicit url skips discovery entirely', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'fixed', url: simulator.control.inferenceUrl('ccfraud') }],
  }));
  assert.equal((await infer(gw.url, 'fixed', ccfraudBody())).status, 200);
  assert.equal(simulator.control.counts.mlops, 0);
});

test('an unknown workspace or pipeline is GW_DISCOVERY_FAILED naming it', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'lost', workspace: 'nowhere' }, { name: 'gone', workspace: 'demo', pipeline: 'deleted' }],
  }));
  assert.deepEqual((await infer(gw.url, 'lost', '[]')).json(), {
    statusCode: 502, code: 'GW_DISCOVERY_FAILED', error: 'Bad Gateway', message: 'workspace "nowhere" not found for pipeline lost',
  });
  assert.deepEqual((await infer(gw.url, 'gone', '[]')).json(), {
    statusCode: 502, code: 'GW_DISCOVERY_FAILED', error: 'Bad Gateway', message: 'MLOps API /admin/get_pipeline_external_url answered 404: pipeline deleted not found in workspace 8',
  });
});
