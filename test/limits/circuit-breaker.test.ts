import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('consecutive upstream failures open the circuit: fail fast, then a half-open probe closes it', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', circuitBreaker: { failureThreshold: 3, cooldownMs: 2_000 } }],
  }));
  const state = async () => (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ breaker: string }> }>().pipelines[0]!.breaker;
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  simulator.control.failInference(3, { status: 500 });
  for (let i = 0; i < 3; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 500);
  assert.equal(await state(), 'open');
  assert.match((await call(`${gw.url}/metrics`)).text, /^wallaroo_gateway_circuit_state\{pipeline="ccfraud"\} 1$/m);

  const calls = simulator.control.counts.inference;
  const fast = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(fast.status, 503);
  assert.equal(fast.json<{ code: string }>().code, 'GW_CIRCUIT_OPEN');
  assert.ok(Number(fast.headers['retry-after']) >= 1);
  assert.equal(simulator.control.counts.inference, calls, 'failing fast: Wallaroo not called');

  await waitFor(async () => (await state()) === 'half-open', 'the cool-down to end');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200, 'the probe');
  assert.equal(await state(), 'closed');
  assert.match((await call(`${gw.url}/metrics`)).text, /^wallaroo_gateway_circuit_state\{pipeline="ccfraud"\} 0$/m);
});

test('a failed probe opens the circuit again; client errors (4xx) never count as failures', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', circuitBreaker: { failureThreshold: 2, cooldownMs: 300 } }],
  }));
  // Wallaroo refuses bad rows with its release's status (400 from 2025; a 500 "Error running inference" before).
  const refusal = simulator.control.profile.error('bad-input', 'the input');
  for (let i = 0; i < 5; i++) assert.equal((await infer(gw.url, 'ccfraud', '[{"tensor":[1]}]')).status, refusal.status);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200, "still closed after many refusals of a caller's rows");
  simulator.control.failInference(3, { status: 502 });
  await infer(gw.url, 'ccfraud', ccfraudBody());
  await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).json<{ code: string }>().code, 'GW_CIRCUIT_OPEN');
  const state = async () => (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ breaker: string }> }>().pipelines[0]!.breaker;
  await waitFor(async () => (await state()) === 'half-open', 'the cool-down to end');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 502, 'the probe fails');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).json<{ code: string }>().code, 'GW_CIRCUIT_OPEN');
});
