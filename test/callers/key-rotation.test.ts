import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { type Answer, infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';

/** Sends until `done(answer)` holds (the key refresh interval must pass: no event tells when), at most 100 times. */
async function sendUntil(send: () => Promise<Answer>, done: (answer: Answer) => boolean): Promise<Answer> {
  let answer = await send();
  for (let i = 0; i < 100 && !done(answer); i++) {
    await sleep(50);
    answer = await send();
  }
  return answer;
}

test('key rotation: a token signed by a newly published key is accepted after one JWKS fetch; a withdrawn key stops verifying', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t, 'RS256');
  const oldKid = issuer.currentKid();
  const gw = await startGateway(t, callersConfig(simulator, { callers: kubernetesCallers(issuer, { keysMinRefreshSeconds: 1 }) }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const oldToken = await issuer.token({ namespace: 'payments', name: 'scorer' });
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(oldToken))).status, 200);
  assert.equal(issuer.counts.jwks, 1);

  // The API server starts signing with a new ES256 key.
  await issuer.addKey('ES256');
  const newToken = await issuer.token({ namespace: 'payments', name: 'scorer' });
  const accepted = await sendUntil(() => infer(gw.url, 'summary', '[{"a":1}]', bearer(newToken)), (a) => a.status === 200);
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal(issuer.counts.jwks, 2, 'exactly one more fetch, however many tries it took');

  // The old key is withdrawn. The gateway learns of it at its next fetch (here prompted by a token naming an
  // unknown key); the key set changed, so the cached verification of the old token is dropped.
  issuer.unpublish(oldKid);
  const probe = await issuer.token({ namespace: 'payments', name: 'scorer', headerKid: 'not-published' });
  await sendUntil(() => infer(gw.url, 'summary', '[{"a":1}]', bearer(probe)), () => issuer.counts.jwks === 3);
  assert.equal(issuer.counts.jwks, 3);
  const refused = await infer(gw.url, 'summary', '[{"a":1}]', bearer(oldToken));
  assert.equal(refused.status, 401);
  assert.equal(refused.json<{ message: string }>().message, 'the token is signed with a key the issuer does not publish');
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(newToken))).status, 200);
  assert.match(gw.logText(), /the token issuer published new keys; verified tokens are checked again/);
});
