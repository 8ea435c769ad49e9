import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { call, infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('callers.identityMetricLabel: answers are counted per caller identity and status (never with the token) only when asked for', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t);
  const gw = await startGateway(t, callersConfig(simulator, {
    callers: kubernetesCallers(issuer, {}, { identityMetricLabel: true }),
    pipelines: [{ name: 'summary', workspace: 'demo', allow: ['payments/*'] }],
  }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const scorer = await issuer.token({ namespace: 'payments', name: 'scorer' });
  const outsider = await issuer.token({ namespace: 'web', name: 'frontend' });
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(scorer))).status, 200);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(scorer))).status, 200);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(outsider))).status, 403);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 401);

  const metrics = (await call(`${gw.url}/metrics`)).text;
  const series = metrics.split('\n').filter((line) => line.startsWith('wallaroo_gateway_caller_requests_total{')).sort();
  assert.deepEqual(series, [
    'wallaroo_gateway_caller_requests_total{pipeline="summary",caller="system:serviceaccount:payments:scorer",status="200"} 2',
    'wallaroo_gateway_caller_requests_total{pipeline="summary",caller="system:serviceaccount:web:frontend",status="403"} 1',
  ]);
  for (const token of [scorer, outsider]) assert.ok(!metrics.includes(token.split('.')[2]!));
});
