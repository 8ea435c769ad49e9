import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('the token is refreshed in the background before it expires, and /readyz is green once one is held', async (t) => {
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 3 });
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { url: simulator.url, auth: { clientSecret: 'simulator-secret', refreshBeforeExpirySeconds: 2 } } }));
  assert.equal(await readyStatus(gw.url, 50, 20), 200);
  assert.equal(simulator.control.counts.token, 1);
  // Refresh is due at 2 s of the 3 s lifetime (2 s ahead, but never in the first two thirds): a second token is
  // fetched with no request asking for it, before the first one expires.
  await waitFor(() => simulator.control.counts.token === 2, 'the background refresh');
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.equal(simulator.control.counts.token, 2, 'the request used the refreshed token, no new fetch');
  const expiry = (await gw.registry.getSingleMetric('wallaroo_gateway_token_expiry_timestamp_seconds')!.get()).values[0]!.value;
  assert.ok(expiry > Date.now() / 1000 && expiry <= Date.now() / 1000 + 3.5, `expiry gauge ${expiry} within the new token's 3 s`);
});
