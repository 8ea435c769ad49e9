import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a token signed before a key rotation but delivered after it gets one more replay, with a token fetched after the refusal', async (t) => {
  // 4 s tokens refreshed 3 s early: the background refresh starts at about 1 s, while the first token is still
  // handed out (until 3 s), so the request below is refused with the old token while the refresh is on the wire.
  // Only the inference token is held (no MLOps user; this simulator's MLOps API accepts it), so every token signed is one.
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 4, mlopsAcceptsServiceAccountTokens: true });
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { auth: { refreshBeforeExpirySeconds: 3 }, mlops: null } }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  const signedBefore = simulator.control.issuedTokens.length;
  simulator.control.tokenDeliveryDelayMs = 400;
  for (let i = 0; i < 300 && simulator.control.issuedTokens.length === signedBefore; i++) await sleep(10);
  assert.equal(simulator.control.issuedTokens.length, signedBefore + 1, 'the background refresh signed a token');

  simulator.control.revokeAllTokens(); // the refreshed token, still on the wire, is revoked along with the old one
  const inferenceBefore = simulator.control.counts.inference;
  const tokensBefore = simulator.control.counts.token;
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody(2));

  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json<unknown[]>().length, 2);
  assert.equal(simulator.control.counts.inference - inferenceBefore, 3, 'refused with the old token, refused with the in-flight one, then served');
  assert.equal(simulator.control.counts.token - tokensBefore, 1, 'one fetch started after the refusal');
  const line = gw.logs.find((l) => l.msg === 'request' && Array.isArray(l.replays) && (l.replays as string[]).length > 0);
  assert.deepEqual(line?.replays, ['token', 'token']);
});
