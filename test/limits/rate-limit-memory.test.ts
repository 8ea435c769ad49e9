import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('per-pipeline limit: 429 GW_RATE_LIMITED with Retry-After, RateLimit-* and X-RateLimit-*, and a metric', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', rateLimit: { max: 3, timeWindow: '10s' } }, { name: 'summary', workspace: 'demo' }],
  }));
  const first = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(first.status, 200);
  assert.equal(first.headers['ratelimit-limit'], '3');
  assert.equal(first.headers['ratelimit-remaining'], '2');
  assert.equal(first.headers['x-ratelimit-remaining'], '2');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  const before = simulator.control.counts.inference;
  const limited = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(limited.status, 429);
  assert.equal(simulator.control.counts.inference, before, 'a limited request never reaches Wallaroo');
  const body = limited.json<{ code: string; error: string; message: string }>();
  assert.equal(body.code, 'GW_RATE_LIMITED');
  assert.equal(body.error, 'Too Many Requests');
  assert.match(body.message, /^rate limit of 3 requests per 10 seconds exceeded; retry after \d+ s$/);
  const retryAfter = Number(limited.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After ${retryAfter}`);
  assert.equal(limited.headers['ratelimit-remaining'], '0');
  assert.equal(limited.headers['x-ratelimit-limit'], '3');
  assert.ok(limited.headers['ratelimit-reset'] && limited.headers['x-ratelimit-reset']);
  // Another pipeline without a limit is unaffected.
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200);
  assert.match((await call(`${gw.url}/metrics`)).text, /^wallaroo_gateway_rate_limited_total\{pipeline="ccfraud"\} 1$/m);
});

test('keyBy header: each client id has its own budget; the default applies to pipelines without their own', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'summary', workspace: 'demo' }],
    rateLimit: { keyBy: 'header:x-client-id', default: { max: 2, timeWindow: '1m' } },
  }));
  const as = (client: string) => infer(gw.url, 'summary', '[{"a":1}]', { 'x-client-id': client });
  assert.deepEqual([(await as('a')).status, (await as('a')).status, (await as('a')).status], [200, 200, 429]);
  assert.deepEqual([(await as('b')).status, (await as('b')).status, (await as('b')).status], [200, 200, 429]);
});

test('an unknown pipeline is not rate limited but 404, and the limit runs before the body is read', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { rateLimit: { default: { max: 1, timeWindow: '1m' } } }));
  // Three calls against a budget of one: a limit counted for unknown names would answer the second with 429.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const unknown = await infer(gw.url, 'nope', '[]');
    assert.equal(unknown.status, 404, `call ${attempt} to an unknown pipeline`);
    assert.equal(unknown.json<{ code: string }>().code, 'GW_PIPELINE_NOT_FOUND');
    assert.equal(unknown.headers['ratelimit-limit'], undefined, 'no budget is counted for an unknown pipeline');
  }
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200);
  // Over the limit with a body that would be refused as malformed: the 429 comes first.
  assert.equal((await infer(gw.url, 'summary', '{broken')).status, 429);
});
