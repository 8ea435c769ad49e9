import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

/** Keeps this process's event loop busy 150 ms at a time (gateway and simulator share it here). */
function hogEventLoop(): () => void {
  const hog = setInterval(() => {
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // busy on purpose: this is the overload being simulated
    }
  }, 1);
  return () => clearInterval(hog);
}

test('a saturated event loop: inference is shed with 503 GW_OVERLOADED, health and metrics still answer, then it recovers', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { server: { maxEventLoopDelayMs: 100 } }));
  // Starting up (loading modules on a busy machine) can itself delay the loop past 100 ms for a sample or two.
  await waitFor(async () => (await infer(gw.url, 'ccfraud', ccfraudBody())).status === 200, 'the gateway to serve before the loop is saturated', 15_000, 100);

  const stopHog = hogEventLoop();
  t.after(stopHog);
  let shed: Awaited<ReturnType<typeof infer>> | null = null;
  let reachedWallaroo = -1;
  for (let attempt = 0; attempt < 60 && !shed; attempt++) {
    const before = simulator.control.counts.inference;
    const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
    if (answer.status === 503) {
      shed = answer;
      reachedWallaroo = simulator.control.counts.inference - before;
    } else {
      assert.equal(answer.status, 200, 'before the delay is noticed, requests are served');
    }
  }
  assert.ok(shed, 'requests were shed while the event loop was saturated');
  const body = shed.json<{ statusCode: number; code: string; error: string; message: string }>();
  assert.equal(body.code, 'GW_OVERLOADED');
  assert.equal(body.statusCode, 503);
  assert.equal(body.error, 'Service Unavailable');
  assert.match(body.message, /event-loop delay \d+ ms/);
  assert.equal(shed.headers['retry-after'], '1');
  assert.equal(reachedWallaroo, 0, 'a shed request never reaches Wallaroo');
  assert.equal((await call(`${gw.url}/healthz`)).status, 200, 'liveness is not shed');
  assert.equal((await call(`${gw.url}/metrics`)).status, 200, 'metrics are not shed');

  stopHog();
  await waitFor(async () => (await infer(gw.url, 'ccfraud', ccfraudBody())).status === 200, 'served again once the event loop recovers', 10_000, 100);
});

// Differential: under the same saturated loop a gateway with shedding on sheds, the one with 0 keeps serving.
// Waiting for the first to shed proves the delay is visible to a sampler, so the second had every chance to.
test('maxEventLoopDelayMs: 0 turns shedding off while a gateway with shedding on sheds', async (t) => {
  const simulator = await useSimulator(t);
  const shedding = await startGateway(t, simulatorConfig(simulator, { server: { maxEventLoopDelayMs: 100 } }));
  const off = await startGateway(t, simulatorConfig(simulator, { server: { maxEventLoopDelayMs: 0 } }));
  const stopHog = hogEventLoop();
  t.after(stopHog);
  await waitFor(async () => (await infer(shedding.url, 'ccfraud', ccfraudBody())).status === 503, 'the gateway with shedding on to shed', 30_000);
  for (let attempt = 0; attempt < 5; attempt++) assert.equal((await infer(off.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal((await infer(shedding.url, 'ccfraud', ccfraudBody())).status, 503, 'the loop is still saturated');
});
