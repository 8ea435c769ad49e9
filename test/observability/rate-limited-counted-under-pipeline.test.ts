import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15: 429s were counted as requests_total{pipeline=""} (the rate limit answers before the route knew its
// pipeline), so a pipeline's refusals vanished from its own dashboards.

test('a rate-limited request is counted under its pipeline, never under pipeline=""', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', rateLimit: { max: 1, timeWindow: '1h' } }] }));
  assert.equal((await infer(gateway.url, 'ccfraud', '[{"tensor":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]}]')).status, 200);
  const refused = await infer(gateway.url, 'ccfraud', '[{"tensor":[1]}]');
  assert.equal(refused.status, 429);
  const metrics = (await call(`${gateway.url}/metrics`)).text;
  assert.match(metrics, /^wallaroo_gateway_requests_total\{pipeline="ccfraud",route="infer",status="429"\} 1$/m);
  assert.doesNotMatch(metrics, /^wallaroo_gateway_requests_total\{pipeline="",[^}]*status="429"\}/m);
});
