import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('the token is refreshed in the background before it expires, and /readyz is green once one is held', async (t) => {
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 3 });
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { url: simulator.url, auth: { clientSecret: 'simulator-secret', refreshBeforeExpirySeconds: 2 } } }));
  assert.equal(await readyStatus(gw.url, 50, 20), 200);
  assert.equal(simulator.control.counts.token, 1);
  // Refresh is due 2 s before the 3 s expiry: by 1.6 s a second token must have been fetched, with no request.
  await sleep(1_600);
  assert.equal(simulator.control.counts.token, 2);
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.equal(simulator.control.counts.token, 2, 'the request used the refreshed token, no new fetch');
  const expiry = (await gw.registry.getSingleMetric('wallaroo_gateway_token_expiry_timestamp_seconds')!.get()).values[0]!.value;
  assert.ok(Math.abs(expiry - (Date.now() / 1000 + 1.4)) < 1.5, `expiry gauge ${expiry} near now+3s`);
});
