import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('the token is refreshed in the background before it expires, and /readyz is green once one is held', async (t) => {
  // Only the inference token is held (no MLOps user; this simulator's MLOps API accepts it), so it is the only one counted.
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 6, mlopsAcceptsServiceAccountTokens: true });
  const issuedAt: number[] = [];
  // Whether the gateway still held a valid token as each new one was issued (by its own clock).
  const heldWhenIssued: boolean[] = [];
  let gw: Awaited<ReturnType<typeof startGateway>> | null = null;
  const onIssued = () => {
    issuedAt.push(Date.now());
    heldWhenIssued.push(gw?.gateway.tokens.inference.hasValidToken() ?? false);
  };
  simulator.control.events.on('token-issued', onIssued);
  t.after(() => simulator.control.events.off('token-issued', onIssued));
  const refreshed = simulator.control.waitFor('token-issued', () => issuedAt.length === 2);
  gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { auth: { refreshBeforeExpirySeconds: 4 }, mlops: null } }));
  assert.equal(await readyStatus(gw.url, 50, 20), 200);
  // Refresh is due 4 s before the 6 s expiry: a second token is fetched with no request, before the first expires.
  await refreshed;
  assert.deepEqual(heldWhenIssued, [false, true], 'the second token was fetched while the first was still valid');
  const fetched = simulator.control.counts.token;
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.equal(simulator.control.counts.token, fetched, 'the request used the refreshed token, no new fetch');
  const expiry = (await gw.registry.getSingleMetric('wallaroo_gateway_token_expiry_timestamp_seconds')!.get()).values[0]!.value;
  // Set when the gateway received the refreshed token: after the simulator issued it, before now.
  const earliest = Math.floor(issuedAt[1]! / 1000) + 6;
  const latest = Math.floor(Date.now() / 1000) + 6;
  assert.ok(expiry >= earliest && expiry <= latest, `expiry gauge ${expiry} is the refreshed token's expiry (${earliest}..${latest})`);
});
