import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('maxConcurrency with a bounded queue: overflow is 503 GW_OVERLOADED with Retry-After, the rest are served', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', maxConcurrency: 2, maxQueue: 1 }] }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200); // warm: token and URL
  simulator.control.latencyMs = 300;
  const pending = Array.from({ length: 5 }, () => infer(gw.url, 'ccfraud', ccfraudBody()));
  await sleep(100);
  const listing = (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ inflight: number }> }>();
  assert.equal(listing.pipelines[0]!.inflight, 3, 'two in flight and one queued; the other two were refused at once');
  const answers = await Promise.all(pending);
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 503, 503]);
  const overloaded = answers.find((a) => a.status === 503)!;
  assert.equal(overloaded.json<{ code: string }>().code, 'GW_OVERLOADED');
  assert.equal(overloaded.headers['retry-after'], '1');
  assert.equal(simulator.control.counts.inference, 4);
});
