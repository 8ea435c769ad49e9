import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('100 concurrent cold requests share exactly one token request and one discovery', async (t) => {
  const simulator = await useSimulator(t);
  simulator.control.tokenLatencyMs = 100; // keep the first fetch in flight while the others arrive
  const gw = await startGateway(t, simulatorConfig(simulator));
  const answers = await Promise.all(Array.from({ length: 100 }, () => infer(gw.url, 'ccfraud', ccfraudBody())));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.equal(simulator.control.counts.tokenByGrant.client_credentials, 1);
  // workspaces/list once, get_pipeline_external_url once
  assert.equal(simulator.control.counts.mlops, 2);
  assert.equal(simulator.control.counts.inference, 100);
});
