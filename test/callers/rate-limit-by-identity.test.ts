import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { call, infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('rateLimit.keyBy identity: the budget follows the verified service account; new tokens and rewritten headers do not evade it', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t);
  const gw = await startGateway(t, callersConfig(simulator, {
    callers: kubernetesCallers(issuer),
    rateLimit: { keyBy: 'identity', default: { max: 3, timeWindow: '1m' } },
  }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);

  // Every request: a freshly minted token (another jti, so another cache entry) and every header a client could
  // vary to look like someone else.
  let n = 0;
  const disguised = async (namespace: string, name: string) => {
    n++;
    return infer(gw.url, 'summary', '[{"a":1}]', {
      ...bearer(await issuer.token({ namespace, name })),
      'x-client-id': `client-${n}`,
      'x-forwarded-for': `10.0.0.${n}`,
      'x-real-ip': `10.1.0.${n}`,
      forwarded: `for=10.2.0.${n}`,
      'user-agent': `agent/${n}`,
    });
  };
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await disguised('payments', 'scorer')).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const limited = await disguised('payments', 'scorer');
  assert.equal(limited.json<{ code: string }>().code, 'GW_RATE_LIMITED');

  // Another identity from the same address has its own budget.
  assert.equal((await disguised('fraud', 'detector')).status, 200);
  assert.match((await call(`${gw.url}/metrics`)).text, /^wallaroo_gateway_rate_limited_total\{pipeline="summary"\} 3$/m);
});
