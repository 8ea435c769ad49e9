import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('with the identity provider down: 503 GW_TOKEN_UNAVAILABLE with Retry-After, never an upstream 401 or a 200', async (t) => {
  const simulator = await useSimulator(t);
  simulator.control.tokenEndpointDown = true;
  const gw = await startGateway(t, simulatorConfig(simulator));
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 503);
  // Retry-After says when the next attempt is due: whole seconds, at most the backoff cap of 30 s.
  const retryAfter = Number(answer.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30, `Retry-After ${retryAfter}`);
  const body = answer.json<Record<string, unknown>>();
  assert.equal(body.code, 'GW_TOKEN_UNAVAILABLE');
  assert.equal(body.error, 'Service Unavailable');
  assert.match(String(body.message), /no valid Wallaroo inference token: token endpoint unreachable/);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo without a token');
  const ready = await call(`${gw.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.json<{ code: string }>().code, 'GW_TOKEN_UNAVAILABLE');

  // The provider comes back: the gateway recovers by itself.
  simulator.control.tokenEndpointDown = false;
  await waitFor(() => gw.gateway.tokens.inference.hasValidToken(), 'the next scheduled attempt to succeed', 60_000);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal((await call(`${gw.url}/readyz`)).status, 200);
});

test('transient token failures (5xx, an empty 200) are retried on the backoff schedule while the first request waits', async (t) => {
  const simulator = await useSimulator(t);
  simulator.control.failToken(1, { status: 503 });
  simulator.control.failToken(1, { status: 200, body: '' });
  const gw = await startGateway(t, simulatorConfig(simulator));
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.equal(simulator.control.counts.token, 3);
  const metric = await gw.registry.getSingleMetric('wallaroo_gateway_token_requests_total')!.get();
  const byResult = Object.fromEntries(metric.values.map((v) => [v.labels.result, v.value]));
  assert.deepEqual(byResult, { failure: 2, success: 1 });
});

test('refused credentials are not retried in a loop and say what the provider answered, not its text', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { url: simulator.url, auth: { clientSecret: 'wrong-secret' } } }));
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 503);
  assert.equal(answer.json<{ message: string }>().message, 'no valid Wallaroo inference token: token endpoint answered 401 invalid_client');
  assert.equal(simulator.control.counts.token, 1);
  assert.ok(!gw.logText().includes('wrong-secret'));
  assert.ok(!gw.logText().includes('Invalid client or Invalid client credentials'));
});
