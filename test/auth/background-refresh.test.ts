import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('the token is refreshed in the background before it expires, and /readyz is green once one is held', async (t) => {
  // Only the inference token is held (no MLOps user; this simulator's MLOps API accepts it), so it is the only one counted.
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 3, mlopsAcceptsServiceAccountTokens: true });
  let issued = 0;
  const refreshed = simulator.control.waitFor('token-issued', () => ++issued === 2);
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { auth: { refreshBeforeExpirySeconds: 2 }, mlops: null } }));
  assert.equal(await readyStatus(gw.url, 50, 20), 200);
  assert.equal(simulator.control.counts.token, 1);
  // Refresh is due 2 s before the 3 s expiry: a second token is fetched with no request, before the first expires.
  const firstExpires = Date.now() + 3_000;
  await refreshed;
  assert.ok(Date.now() < firstExpires, 'refreshed before the first token expired');
  assert.equal(simulator.control.counts.token, 2);
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.equal(simulator.control.counts.token, 2, 'the request used the refreshed token, no new fetch');
  const expiry = (await gw.registry.getSingleMetric('wallaroo_gateway_token_expiry_timestamp_seconds')!.get()).values[0]!.value;
  assert.ok(Math.abs(expiry - (Date.now() / 1000 + 3)) < 1.5, `expiry gauge ${expiry} near now+3s`);
});
