import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('a half-open probe whose caller leaves frees the half-open state at once: the next request probes', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: 20_000, circuitBreaker: { failureThreshold: 2, cooldownMs: 300 } }],
  }));
  simulator.control.failInference(2, { status: 502 });
  for (let i = 0; i < 2; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 502);
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).breaker === 'half-open', 'the cool-down to end');

  simulator.control.latencyMs = 10_000; // the probe will be slow; its caller will not wait for it
  const before = simulator.control.counts.inference;
  const controller = new AbortController();
  const probe = request(`${gw.url}/pipelines/ccfraud/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: ccfraudBody(), signal: controller.signal,
  }).catch((error: Error) => error.name);
  await waitFor(() => simulator.control.counts.inference > before, 'the probe to reach Wallaroo');
  controller.abort();
  assert.equal(await probe, 'AbortError');
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).inflight === 0, 'the probe to end');

  simulator.control.latencyMs = 0;
  const next = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(next.status, 200, `the next request probed at once: ${next.text}`);
  assert.equal((await pipelineStatus(gw.url, 'ccfraud')).breaker, 'closed');
});
