import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('where the admin API refuses the client token, discovery uses the MLOps user token (password grant)', async (t) => {
  const simulator = await useSimulator(t, { adminRequiresUserToken: true, users: { alice: 'al1ce-pw' } });

  const withoutUser = await startGateway(t, simulatorConfig(simulator));
  const refused = await infer(withoutUser.url, 'ccfraud', ccfraudBody());
  assert.equal(refused.status, 502);
  assert.deepEqual(refused.json(), {
    statusCode: 502, code: 'GW_DISCOVERY_FAILED', error: 'Bad Gateway',
    message: "MLOps API /admin/get_pipeline_external_url refused the gateway's client-credentials token (403: admin API requires a user token): discovery needs MLOps user credentials (wallaroo.mlops) or an explicit url per pipeline",
  });

  const withUser = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: 'simulator-secret' }, mlops: { clientId: 'sdk-client', username: 'alice', password: 'al1ce-pw' } },
  }));
  const answer = await infer(withUser.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.ok(simulator.control.counts.tokenByGrant.password! >= 1);
  assert.ok(!withUser.logText().includes('al1ce-pw'));
});

test('an expired MLOps access token is renewed with the refresh_token grant', async (t) => {
  const simulator = await useSimulator(t, { adminRequiresUserToken: true, users: { alice: 'al1ce-pw' }, tokenLifetimeSeconds: 3 });
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: 'simulator-secret', refreshBeforeExpirySeconds: 2 }, mlops: { clientId: 'sdk-client', username: 'alice', password: 'al1ce-pw' } },
    discovery: { ttlSeconds: 1 },
  }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  // The background refresh (due 2 s into the 3 s lifetime) uses the refresh token, not the password.
  await waitFor(() => (simulator.control.counts.tokenByGrant.refresh_token ?? 0) >= 1, 'a refresh_token grant');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal(simulator.control.counts.tokenByGrant.password, 1);
  assert.ok((simulator.control.counts.tokenByGrant.refresh_token ?? 0) >= 1);
});
