import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('a token signed before a key rotation but delivered after it gets one more replay, with a token fetched after the refusal', async (t) => {
  // A refresh is on the wire (signed, delivered a second later) while the first token is still handed out, so
  // the request below is refused with the old token while the refresh is in flight. The refresh is started
  // directly, as the background schedule would, so no timing decides the scenario.
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  const signedBefore = simulator.control.issuedTokens.length;
  simulator.control.tokenDeliveryDelayMs = 1_000;
  gw.gateway.tokens.inference.start();
  await waitFor(() => simulator.control.issuedTokens.length > signedBefore, 'the refresh to be signed');
  assert.equal(simulator.control.issuedTokens.length, signedBefore + 1, 'the refresh signed a token');

  simulator.control.revokeAllTokens(); // the refreshed token, still on the wire, is revoked along with the old one
  const inferenceBefore = simulator.control.counts.inference;
  const tokensBefore = simulator.control.counts.token;
  simulator.control.tokenDeliveryDelayMs = 0;
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody(2));

  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json<unknown[]>().length, 2);
  assert.equal(simulator.control.counts.inference - inferenceBefore, 3, 'refused with the old token, refused with the in-flight one, then served');
  assert.equal(simulator.control.counts.token - tokensBefore, 1, 'one fetch started after the refusal');
  const line = gw.logs.find((l) => l.msg === 'request' && Array.isArray(l.replays) && (l.replays as string[]).length > 0);
  assert.deepEqual(line?.replays, ['token', 'token']);
});
