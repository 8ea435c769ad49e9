import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('a caller that leaves while queued for a concurrency slot leaves the queue at once and is never sent', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', maxConcurrency: 1, maxQueue: 4 }] }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  simulator.control.latencyMs = 3_000;
  let firstDone = false;
  const first = infer(gw.url, 'ccfraud', ccfraudBody()).then((answer) => {
    firstDone = true;
    return answer;
  });
  await waitFor(() => simulator.control.counts.inference === 2, 'the first request to hold the only slot');
  const controller = new AbortController();
  const queued = request(`${gw.url}/pipelines/ccfraud/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: ccfraudBody(), signal: controller.signal,
  }).catch((error: Error) => error.name);
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).queued === 1, 'the second request to queue');
  controller.abort();
  assert.equal(await queued, 'AbortError');
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).queued === 0, 'the queue to empty');
  assert.equal(firstDone, false, 'it left the queue while the slot was still taken, not when it came free');

  assert.equal((await first).status, 200);
  simulator.control.latencyMs = 0;
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200, 'the slot was handed on, not lost');
  assert.equal(simulator.control.counts.inference, 3, 'the abandoned request never reached Wallaroo');
});
