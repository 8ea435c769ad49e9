import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// A sidecar's traffic port stays on 127.0.0.1, which the kubelet cannot reach: the probes answer on the
// metrics listener too, with the same readiness as the traffic port.
test('with metrics.port set, /healthz and /readyz answer on the metrics listener, readiness and draining included', async (t) => {
  // Only the inference token is held (no MLOps user; this simulator's MLOps API accepts it), so it is the only one listed.
  const simulator = await useSimulator(t, { mlopsAcceptsServiceAccountTokens: true });
  const gw = await startGateway(t, simulatorConfig(simulator, { metrics: { port: 0 }, wallaroo: { mlops: null } }));
  const admin = gw.metricsUrl!;
  assert.ok(admin);

  const health = await call(`${admin}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(health.json(), { status: 'ok' });
  assert.equal(await readyStatus(admin, 100, 50), 200);
  const ready = (await call(`${admin}/readyz`)).json<{ status: string; tokens: Array<{ kind: string; valid: boolean }> }>();
  assert.equal(ready.status, 'ready');
  assert.deepEqual(ready.tokens.map((token) => [token.kind, token.valid]), [['inference', true]]);

  // Only the probes and /metrics: no inference on the admin port.
  assert.equal((await call(`${admin}/pipelines`)).status, 404);

  gw.gateway.startDraining();
  const draining = await call(`${admin}/readyz`);
  assert.equal(draining.status, 503);
  assert.deepEqual(draining.json(), { statusCode: 503, code: 'GW_DRAINING', error: 'Service Unavailable', message: 'the gateway is draining: finishing requests before it stops' });
  assert.equal((await call(`${gw.url}/readyz`)).status, 503, 'the traffic port agrees');
});
