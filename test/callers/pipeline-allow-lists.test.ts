import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { startGateway } from '../helpers/gateway.ts';
import { call, infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('pipelines[].allow: a verified caller outside the list gets 403 GW_CALLER_FORBIDDEN before the body is read; callers.allow covers the rest; /pipelines shows each list', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t);
  const gw = await startGateway(t, callersConfig(simulator, {
    callers: kubernetesCallers(issuer, {}, { allow: ['ops/*'] }),
    pipelines: [
      { name: 'summary', workspace: 'demo', allow: ['payments/scorer', 'fraud/*'] },
      { name: 'ccfraud', workspace: 'demo' },
    ],
  }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const as = async (namespace: string, name: string) => bearer(await issuer.token({ namespace, name }));

  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', await as('payments', 'scorer'))).status, 200);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', await as('fraud', 'detector'))).status, 200);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(), await as('ops', 'batch'))).status, 200, 'callers.allow applies where a pipeline has no list');

  const inferenceBefore = simulator.control.counts.inference;
  const forbidden = await infer(gw.url, 'summary', '{broken', { ...(await as('payments', 'other')), 'x-request-id': 'forbidden-1' });
  assert.equal(forbidden.status, 403);
  assert.deepEqual(forbidden.json(), {
    statusCode: 403,
    code: 'GW_CALLER_FORBIDDEN',
    error: 'Forbidden',
    message: 'system:serviceaccount:payments:other is not allowed to call pipeline summary',
  });
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', await as('ops', 'batch'))).status, 403, "the pipeline's own list replaces callers.allow");
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(), await as('payments', 'scorer'))).status, 403);
  assert.equal(simulator.control.counts.inference, inferenceBefore, 'no forbidden request reached Wallaroo');
  // A verified caller asking for an unknown pipeline learns only that it does not exist.
  assert.equal((await infer(gw.url, 'nope', '[]', await as('payments', 'scorer'))).status, 404);

  const listing = await call(`${gw.url}/pipelines`);
  assert.deepEqual(
    listing.json<{ pipelines: Array<{ name: string; allow: string[] }> }>().pipelines.map(({ name, allow }) => ({ name, allow })),
    [{ name: 'summary', allow: ['payments/scorer', 'fraud/*'] }, { name: 'ccfraud', allow: ['ops/*'] }],
  );
  const metrics = (await call(`${gw.url}/metrics`)).text;
  assert.match(metrics, /^wallaroo_gateway_caller_refusals_total\{pipeline="summary",reason="forbidden"\} 2$/m);
  assert.match(metrics, /^wallaroo_gateway_caller_refusals_total\{pipeline="ccfraud",reason="forbidden"\} 1$/m);
  assert.doesNotMatch(metrics, /caller_requests_total\{/, 'no per-identity series unless the operator opts in');
  const line = gw.logs.find((l) => l.msg === 'request' && l.reqId === 'forbidden-1');
  assert.deepEqual([line?.status, line?.pipeline, line?.caller], [403, 'summary', 'system:serviceaccount:payments:other']);
});
