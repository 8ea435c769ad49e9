import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

/** Opens an upload of a small declared body and sends only part of it: the caller is still sending. */
function startDripping(t: import('node:test').TestContext, gatewayUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(gatewayUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write('POST /pipelines/ccfraud/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n[');
      resolve(socket);
    });
    socket.on('error', () => undefined);
    t.after(() => socket.destroy());
  });
}

test('after the cool-down, a caller still sending its body does not hold the half-open probe: the next complete request probes and closes the breaker', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', circuitBreaker: { failureThreshold: 2, cooldownMs: 300 } }],
  }));
  simulator.control.failInference(2, { status: 502 });
  for (let i = 0; i < 2; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 502);
  assert.equal((await pipelineStatus(gw.url, 'ccfraud')).breaker, 'open');
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).breaker === 'half-open', 'the cool-down to end');

  const dripping = await startDripping(t, gw.url);
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).inflight === 1, 'the dripping request to be admitted');
  // Before: the dripping request took the probe on arrival, and every caller got GW_CIRCUIT_OPEN while it dripped.
  const probe = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(probe.status, 200, probe.text);
  assert.equal((await pipelineStatus(gw.url, 'ccfraud')).breaker, 'closed');
  // Gone before teardown: the gateway's close would otherwise wait for this upload until the pipeline timeout.
  dripping.destroy();
});
