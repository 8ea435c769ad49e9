import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a caller that disconnects aborts its upstream request, and its slot is freed', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', maxConcurrency: 1, maxQueue: 0 }] }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  // Held upstream until the caller leaves (the simulator finishes its wait even then, so not longer than needed).
  simulator.control.latencyMs = 3_000;
  const received = simulator.control.waitFor('inference-received');
  const hungUp = simulator.control.waitFor('caller-aborted');
  const controller = new AbortController();
  const abandoned = request(`${gw.url}/pipelines/ccfraud/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: ccfraudBody(), signal: controller.signal,
  }).catch((error: Error) => error.name);
  await received;
  controller.abort();
  assert.equal(await abandoned, 'AbortError');
  await hungUp;
  assert.equal(simulator.control.counts.abortedByCaller, 1, 'the gateway hung up on Wallaroo too');
  simulator.control.latencyMs = 0;
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200, 'the only slot was released');
});
