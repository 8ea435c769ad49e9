import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { call, infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a flood of tokens naming unknown keys gets 401s and at most one JWKS fetch per keysMinRefreshSeconds', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t, 'ES256');
  const gw = await startGateway(t, callersConfig(simulator, { callers: kubernetesCallers(issuer, { keysMinRefreshSeconds: 1 }) }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const fetchesBefore = issuer.counts.jwks;
  const forgeries = await Promise.all(Array.from({ length: 300 }, (_, i) => issuer.token({ namespace: 'payments', name: 'scorer', headerKid: `forged-${i}` })));

  const started = performance.now();
  const statuses: number[] = [];
  for (let i = 0; i < forgeries.length; i += 30) {
    const batch = forgeries.slice(i, i + 30).map((token) => infer(gw.url, 'summary', '[{"a":1}]', bearer(token)));
    for (const answer of await Promise.all(batch)) statuses.push(answer.status);
  }
  const elapsedMs = performance.now() - started;

  assert.deepEqual([...new Set(statuses)], [401]);
  const fetches = issuer.counts.jwks - fetchesBefore;
  // Whatever the machine's speed: one fetch may start at once, then at most one per elapsed second.
  assert.ok(fetches <= 1 + Math.ceil(elapsedMs / 1000), `${fetches} JWKS fetches for ${forgeries.length} forged tokens in ${Math.round(elapsedMs)} ms`);
  assert.ok(fetches < forgeries.length / 10);
  const metrics = (await call(`${gw.url}/metrics`)).text;
  assert.match(metrics, new RegExp(`^wallaroo_gateway_caller_key_fetches_total\\{result="success"\\} ${issuer.counts.jwks}$`, 'm'));
});
