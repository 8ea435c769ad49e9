import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Agent } from 'undici';
import { MAX_LIFETIME_SECONDS, requestToken } from '../../src/auth/token-request.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Providers hand out long-lived tokens (a 30-day service account) or lie (1e308). A lifetime past setTimeout's
// 24.8-day ceiling once scheduled the refresh after 1 ms, forever: hundreds of token requests a second.
test('a 30-day token is fetched once and refreshed at least daily, not in a loop', async (t) => {
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 30 * 86_400 });
  const gw = await startGateway(t, simulatorConfig(simulator));
  for (let i = 0; i < 20; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.deepEqual(simulator.control.counts.tokenByGrant, { client_credentials: 1, password: 1 }, 'one token of each kind for the whole run');
  const ready = await call(`${gw.url}/readyz`);
  assert.equal(ready.status, 200);
  const [inference] = (ready.json() as { tokens: Array<{ kind: string; expiresInSeconds: number }> }).tokens;
  assert.equal(inference!.kind, 'inference');
  assert.ok(inference!.expiresInSeconds > 86_000 && inference!.expiresInSeconds <= MAX_LIFETIME_SECONDS, `expires in ${inference!.expiresInSeconds} s`);
});

test('an absurd expires_in (1e308) is taken as a day', async (t) => {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"access_token":"abc.def.ghi","token_type":"Bearer","expires_in":1e308,"refresh_expires_in":1e308}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const dispatcher = new Agent();
  t.after(() => dispatcher.close());
  const answer = await requestToken({
    tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    grant: { type: 'client_credentials', clientId: 'api-client', clientSecret: { source: 'inline', value: 's' } },
    refreshToken: null,
    onRefreshRefused: () => undefined,
    dispatcher,
    timeoutMs: 5_000,
  });
  assert.equal(answer.expiresInSeconds, MAX_LIFETIME_SECONDS);
  assert.equal(answer.refreshExpiresInSeconds, MAX_LIFETIME_SECONDS);
});
