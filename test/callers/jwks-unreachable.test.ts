import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { type Answer, call, infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a hanging JWKS endpoint: a token naming a new key gets 503 GW_CALLER_KEYS_UNAVAILABLE after keysTimeoutMs; callers with known keys are served meanwhile', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t, 'RS256');
  const gw = await startGateway(t, callersConfig(simulator, { callers: kubernetesCallers(issuer, { keysMinRefreshSeconds: 1, keysTimeoutMs: 1000 }) }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const knownKid = issuer.currentKid();
  const cached = await issuer.token({ namespace: 'payments', name: 'scorer' });
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(cached))).status, 200);

  issuer.hangJwks = true;
  await issuer.addKey('ES256');
  const rotated = await issuer.token({ namespace: 'fraud', name: 'detector' });
  // Send the new-key token until one of them sets off a fetch (once keysMinRefreshSeconds has passed): that
  // request is then waiting on the hanging endpoint.
  const fetches = issuer.counts.jwks;
  let waiting: Promise<Answer> | null = null;
  for (let i = 0; i < 100 && !waiting; i++) {
    const attempt = infer(gw.url, 'summary', '[{"a":1}]', bearer(rotated));
    const first = await Promise.race([attempt.then(() => 'answered' as const), issuer.jwksRequests(fetches + 1).then(() => 'fetching' as const)]);
    if (first === 'fetching') waiting = attempt;
    else await sleep(50);
  }
  assert.ok(waiting, 'a fetch was set off');

  // While that fetch hangs: a known key's token (cached, and a fresh one not yet cached) is served at once.
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(cached))).status, 200);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(await issuer.token({ namespace: 'payments', name: 'other', kid: knownKid })))).status, 200);

  const refused = await waiting;
  assert.equal(refused.status, 503);
  assert.deepEqual(refused.json(), {
    statusCode: 503,
    code: 'GW_CALLER_KEYS_UNAVAILABLE',
    error: 'Service Unavailable',
    message: "the token names a signing key the gateway does not hold, and the issuer's keys could not be fetched; retry shortly",
  });
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(issuer.counts.jwks, fetches + 1, 'one fetch for the one request');
  assert.match((await call(`${gw.url}/metrics`)).text, /^wallaroo_gateway_caller_key_fetches_total\{result="failure"\} 1$/m);
  assert.match((await call(`${gw.url}/metrics`)).text, /^wallaroo_gateway_caller_refusals_total\{pipeline="summary",reason="keys_unavailable"\} 1$/m);

  // The endpoint answers again: the next fetch brings the new key in.
  issuer.hangJwks = false;
  let answer = await infer(gw.url, 'summary', '[{"a":1}]', bearer(rotated));
  for (let i = 0; i < 100 && answer.status !== 200; i++) {
    await sleep(50);
    answer = await infer(gw.url, 'summary', '[{"a":1}]', bearer(rotated));
  }
  assert.equal(answer.status, 200);
});

test('keys never fetched (the endpoint hangs from the start): not ready, and token callers get a bounded 503', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t, 'RS256');
  issuer.hangJwks = true;
  const gw = await startGateway(t, callersConfig(simulator, { callers: kubernetesCallers(issuer, { keysTimeoutMs: 300, keysMinRefreshSeconds: 60 }) }));
  await issuer.jwksRequests(1);
  const ready = await call(`${gw.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.json<{ code: string }>().code, 'GW_CALLER_KEYS_UNAVAILABLE');
  // Joins the fetch under way (or, once it failed, is answered at once): either way a coded 503.
  const answer = await infer(gw.url, 'summary', '[{"a":1}]', bearer(await issuer.token({ namespace: 'payments', name: 'scorer' })));
  assert.equal(answer.status, 503);
  assert.deepEqual(answer.json(), { statusCode: 503, code: 'GW_CALLER_KEYS_UNAVAILABLE', error: 'Service Unavailable', message: "the token issuer's keys have not been fetched yet; retry shortly" });
  assert.equal(issuer.counts.jwks, 1);
});
