import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a pipeline recreated during steady traffic: the old URL 404s, the gateway rediscovers and replays, zero failed requests', async (t) => {
  const simulator = await useSimulator(t);
  simulator.control.latencyMs = 2; // keep requests in flight across each redeploy
  const gw = await startGateway(t, simulatorConfig(simulator));
  const statuses: number[] = [];
  let stop = false;
  const worker = async () => {
    for (let i = 0; i < 400 && !stop; i++) statuses.push((await infer(gw.url, 'ccfraud', ccfraudBody())).status);
  };
  const workers = Array.from({ length: 8 }, worker);
  // Recreate (a new deploy id, so a new URL) after every 40 answers, three times; then let traffic run on a little. Counted, not timed, so a
  // busy machine changes nothing but the duration (bounded: 20 s at most).
  const urls = new Set<string>();
  const deadline = Date.now() + 20_000;
  const waitForAnswers = async (count: number) => {
    while (statuses.length < count && Date.now() < deadline) await sleep(5);
  };
  for (let i = 1; i <= 3; i++) {
    await waitForAnswers(40 * i);
    urls.add(simulator.control.recreate('ccfraud'));
  }
  await waitForAnswers(160);
  stop = true;
  await Promise.all(workers);
  assert.equal(urls.size, 3);
  assert.ok(statuses.length >= 160, `enough traffic (${statuses.length})`);
  assert.deepEqual(statuses.filter((s) => s !== 200), []);
  const invalidated = (await gw.registry.getSingleMetric('wallaroo_gateway_discovery_cache_total')!.get()).values.find((v) => v.labels.result === 'invalidated');
  assert.ok(invalidated && invalidated.value >= 3 && invalidated.value <= 3 * 8, `invalidations ${invalidated?.value}`);
  assert.ok(gw.logs.some((l) => Array.isArray(l.replays) && (l.replays as string[]).includes('discovery')));
});
