import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('kubernetes callers: RS256 and ES256 service-account tokens are verified locally, the identity is logged, the token never forwarded', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t, 'RS256');
  const rsaKid = issuer.currentKid();
  const ecKid = await issuer.addKey('ES256'); // both published, as during a Kubernetes key rotation
  const gw = await startGateway(t, callersConfig(simulator, { callers: kubernetesCallers(issuer) }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200, 'ready once the Wallaroo token and the issuer keys are held');
  assert.equal(issuer.counts.discovery, 1, 'keys found through the OIDC discovery document');

  const rsaToken = await issuer.token({ namespace: 'payments', name: 'scorer', kid: rsaKid });
  const answer = await infer(gw.url, 'summary', '[{"a":1}]', { ...bearer(rsaToken), 'x-request-id': 'rs256-call' });
  assert.equal(answer.status, 200, answer.text);
  const forwarded = simulator.control.seen.at(-1)!.headers.authorization as string;
  assert.match(forwarded, /^Bearer /);
  assert.ok(!forwarded.includes(rsaToken), "the caller's token is replaced by the gateway's own");
  assert.ok(simulator.control.issuedTokens.includes(forwarded.slice('Bearer '.length)), 'Wallaroo got the token the gateway obtained');

  const ecToken = await issuer.token({ namespace: 'fraud', name: 'detector', kid: ecKid });
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', { ...bearer(ecToken), 'x-request-id': 'es256-call' })).status, 200);

  const lines = gw.logs.filter((l) => l.msg === 'request');
  assert.equal(lines.find((l) => l.reqId === 'rs256-call')?.caller, 'system:serviceaccount:payments:scorer');
  assert.equal(lines.find((l) => l.reqId === 'es256-call')?.caller, 'system:serviceaccount:fraud:detector');
  for (const token of [rsaToken, ecToken]) {
    assert.ok(!gw.logText().includes(token.split('.')[2]!), 'no token (nor its signature) in the log');
  }
});
