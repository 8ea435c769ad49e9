import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('an upstream 401 drops the token, fetches one new token and replays the request once', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  const tokensBefore = simulator.control.counts.tokenByGrant.client_credentials!;
  const inferenceBefore = simulator.control.counts.inference;

  simulator.control.revokeAllTokens();
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody(3));
  assert.equal(answer.status, 200);
  assert.equal(answer.json<unknown[]>().length, 3);
  assert.equal(simulator.control.counts.tokenByGrant.client_credentials! - tokensBefore, 1);
  assert.equal(simulator.control.counts.inference - inferenceBefore, 2, 'the refused call and one replay');
  const line = gw.logs.find((l) => l.msg === 'request' && Array.isArray(l.replays));
  assert.deepEqual(line?.replays, ['token']);
});

test('a burst of 401s triggers one token fetch, and every request succeeds', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  const tokensBefore = simulator.control.counts.tokenByGrant.client_credentials!;
  simulator.control.revokeAllTokens();
  simulator.control.tokenLatencyMs = 50;
  const answers = await Promise.all(Array.from({ length: 30 }, () => infer(gw.url, 'ccfraud', ccfraudBody())));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.equal(simulator.control.counts.tokenByGrant.client_credentials! - tokensBefore, 1);
});

test('a 401 that persists after the replay is GW_UPSTREAM_UNAUTHORIZED, never a loop', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  const inferenceBefore = simulator.control.counts.inference;
  simulator.control.failInference(5, { status: 401, body: '{"error":"denied"}' });
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 502);
  assert.equal(answer.json<{ code: string }>().code, 'GW_UPSTREAM_UNAUTHORIZED');
  assert.equal(simulator.control.counts.inference - inferenceBefore, 2);
});
