import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useRedis } from '../helpers/redis.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// 200 ms: the outage test needs a short command timeout. A timed-out command fails open, so the exact-count test
// gives Redis all the time a loaded machine may need.
const limited = (redisUrl: string, failOpen = true, redisTimeoutMs = 200) => ({
  pipelines: [{ name: 'summary', workspace: 'demo', rateLimit: { max: 10, timeWindow: '1m' } }],
  rateLimit: { store: 'redis', redisUrl, failOpen, redisTimeoutMs },
});

test('two gateway replicas sharing one Redis admit exactly the limit between them', async (t) => {
  const redis = await useRedis(t);
  const simulator = await useSimulator(t);
  const replicas = [await startGateway(t, simulatorConfig(simulator, limited(redis.url, true, 10_000))), await startGateway(t, simulatorConfig(simulator, limited(redis.url, true, 10_000)))];
  const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => infer(replicas[i % 2]!.url, 'summary', '[{"a":1}]').then((a) => a.status)));
  assert.equal(statuses.filter((s) => s === 200).length, 10);
  assert.equal(statuses.filter((s) => s === 429).length, 20);
  assert.equal(simulator.control.counts.inference, 10);
});

test('Redis down: fail open serves (logged and counted); fail closed refuses with 503 GW_RATE_LIMIT_UNAVAILABLE; both recover', async (t) => {
  const redis = await useRedis(t);
  const simulator = await useSimulator(t);
  const open = await startGateway(t, simulatorConfig(simulator, limited(redis.url, true)));
  const closed = await startGateway(t, simulatorConfig(simulator, limited(redis.url, false)));
  assert.equal((await infer(open.url, 'summary', '[{"a":1}]')).status, 200);
  assert.equal((await infer(closed.url, 'summary', '[{"a":1}]')).status, 200);

  await redis.stop();
  // A request held by the outage (a queued Redis command) would end in neither of these answers.
  const served = await infer(open.url, 'summary', '[{"a":1}]');
  const refused = await infer(closed.url, 'summary', '[{"a":1}]');
  assert.equal(served.status, 200);
  assert.equal(refused.status, 503);
  assert.equal(refused.json<{ code: string }>().code, 'GW_RATE_LIMIT_UNAVAILABLE');
  assert.equal(refused.headers['retry-after'], '1');
  assert.match((await call(`${open.url}/metrics`)).text, /^wallaroo_gateway_rate_limit_store_errors_total\{outcome="allowed"\} [1-9]/m);
  assert.ok(open.logs.some((l) => l.msg === 'rate-limit store unavailable'));

  await redis.start();
  // The gateway's Redis client reconnects on its own schedule, which nothing outside it can observe.
  await waitFor(async () => (await infer(closed.url, 'summary', '[{"a":1}]')).status === 200, 'the fail-closed replica to serve once Redis is back', 15_000, 100);
});
