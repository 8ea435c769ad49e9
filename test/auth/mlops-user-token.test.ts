import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('where the admin API refuses the client token, discovery uses the MLOps user token (password grant)', async (t) => {
  // Wallaroo documents the MLOps API as taking a user's token; the simulator refuses a service account's.
  const simulator = await useSimulator(t, { users: { alice: 'al1ce-pw' } });

  const withoutUser = await startGateway(t, simulatorConfig(simulator, { wallaroo: { mlops: null } }));
  const refused = await infer(withoutUser.url, 'ccfraud', ccfraudBody());
  assert.equal(refused.status, 502);
  assert.deepEqual(refused.json(), {
    statusCode: 502, code: 'GW_DISCOVERY_FAILED', error: 'Bad Gateway',
    message: 'MLOps API /workspaces/list answered 403',
  });

  const withUser = await startGateway(t, simulatorConfig(simulator, { wallaroo: { mlops: { username: 'alice', password: 'al1ce-pw' } } }));
  const answer = await infer(withUser.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.ok(simulator.control.counts.tokenByGrant.password! >= 1);
  assert.ok(!withUser.logText().includes('al1ce-pw'));
});

test('an expired MLOps access token is renewed with the refresh_token grant', async (t) => {
  const simulator = await useSimulator(t, { users: { alice: 'al1ce-pw' }, tokenLifetimeSeconds: 3 });
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { auth: { refreshBeforeExpirySeconds: 2 }, mlops: { username: 'alice', password: 'al1ce-pw' } },
    discovery: { ttlSeconds: 1 },
  }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  await sleep(1_500);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal(simulator.control.counts.tokenByGrant.password, 1);
  assert.ok((simulator.control.counts.tokenByGrant.refresh_token ?? 0) >= 1);
});
