import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import type { PipelineStatus, StatusReport } from '../../src/ui/status.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer, readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

async function status(url: string): Promise<StatusReport> {
  const answer = await call(`${url}/status.json`);
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['cache-control'], 'no-store');
  return answer.json<StatusReport>();
}

const pipeline = (report: StatusReport, name: string): PipelineStatus => report.pipelines.find((p) => p.name === name)!;

test('GET /status.json: live pipeline figures, the open breaker and last errors, token expiry and last token error; never a token or secret', async (t) => {
  const simulator = await useSimulator(t);
  simulator.control.failToken(1, { status: 503 }); // the first token request fails, the retry succeeds
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: SERVER_WITHOUT_SHEDDING,
    pipelines: [
      { name: 'ccfraud', workspace: 'demo', circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 }, rateLimit: { max: 100, timeWindow: '1m' } },
      { name: 'summary', workspace: 'demo' },
    ],
  }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);

  const before = await status(gw.url);
  assert.equal(before.gateway.draining, false);
  assert.deepEqual(before.pipelines.map((p) => p.name), ['ccfraud', 'summary']);
  assert.equal(pipeline(before, 'ccfraud').requests.total, 0);
  assert.equal(pipeline(before, 'ccfraud').urlHost, null, 'not resolved before the first request');
  const [token] = before.tokens;
  assert.equal(token!.kind, 'inference');
  assert.equal(token!.valid, true);
  const lifetime = simulator.control.profile.lifetimes.clientCredentials; // the simulated release's, as recorded
  assert.ok(token!.expiresInSeconds! > lifetime - 50 && token!.expiresInSeconds! <= lifetime, `expires in ${token!.expiresInSeconds} of ${lifetime}`);
  assert.equal(token!.lastError?.message, 'token endpoint answered 503');

  for (let i = 0; i < 3; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  simulator.control.failInference(2, { status: 500 });
  for (let i = 0; i < 2; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 500);
  const refused = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(refused.status, 503);

  const after = await status(gw.url);
  const ccfraud = pipeline(after, 'ccfraud');
  assert.equal(ccfraud.breaker, 'open');
  assert.equal(ccfraud.requests.total, 6);
  assert.equal(ccfraud.requests.errorRatio, 3 / 6);
  assert.ok(ccfraud.requests.perSecond! > 0);
  assert.ok(ccfraud.requests.p50Ms! > 0 && ccfraud.requests.p99Ms! >= ccfraud.requests.p50Ms!);
  assert.ok(ccfraud.requests.engineP50Ms! > 0);
  assert.equal(ccfraud.urlHost, new URL(simulator.url).host);
  assert.equal(ccfraud.rateLimit?.limitedTotal, 0);
  assert.equal(ccfraud.lastError?.code, 'GW_CIRCUIT_OPEN');
  assert.equal(ccfraud.lastError?.status, 503);
  assert.equal(ccfraud.lastError?.message, refused.json<{ message: string }>().message);
  assert.equal(pipeline(after, 'summary').lastError, null);
  assert.equal(pipeline(after, 'summary').breaker, 'closed');

  // The page and its data hold no token and no secret.
  const page = (await call(`${gw.url}/`)).text;
  const data = JSON.stringify(after);
  assert.ok(simulator.control.issuedTokens.length > 0);
  for (const secret of [...simulator.control.issuedTokens, DEFAULT_CLIENT_SECRET]) {
    assert.ok(!data.includes(secret) && !page.includes(secret), 'a token or the client secret leaked into the status page');
  }
});

test("a pipeline's last error from Wallaroo itself: the status Wallaroo answered, passed through", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, pipelines: [{ name: 'ccfraud', workspace: 'demo' }] }));
  simulator.control.failInference(1, { status: 502 });
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 502);
  const { lastError } = pipeline(await status(gw.url), 'ccfraud');
  assert.deepEqual({ ...lastError, at: undefined }, { at: undefined, status: 502, code: null, message: 'Wallaroo answered 502' });
  assert.ok(Math.abs(lastError!.at - Date.now()) < 60_000);
});
