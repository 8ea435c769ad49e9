import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('an unconfigured pipeline is 404 GW_PIPELINE_NOT_FOUND; an unknown route is 404 GW_ROUTE_NOT_FOUND', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  const answer = await infer(gw.url, 'not-configured', '[]');
  assert.equal(answer.status, 404);
  assert.deepEqual(answer.json(), { statusCode: 404, code: 'GW_PIPELINE_NOT_FOUND', error: 'Not Found', message: 'no pipeline named "not-configured" is configured' });
  assert.equal(simulator.control.counts.mlops + simulator.control.counts.inference, 0);
  const route = await call(`${gw.url}/nowhere`);
  assert.equal(route.status, 404);
  assert.equal(route.json<{ code: string }>().code, 'GW_ROUTE_NOT_FOUND');
});
