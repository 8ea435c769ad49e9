import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('across token fetches, 401 replays, refresh grants and errors, no secret or token reaches the log, metrics or listings', async (t) => {
  const clientSecret = 'cl1ent-SECRET-value';
  const password = 'us3r-PASSWORD-value';
  const simulator = await useSimulator(t, { clients: { 'api-client': clientSecret }, users: { ops: password }, adminRequiresUserToken: true, tokenLifetimeSeconds: 3 });
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret, refreshBeforeExpirySeconds: 2 }, mlops: { clientId: 'sdk-client', username: 'ops', password } },
    logging: { level: 'trace' },
    discovery: { ttlSeconds: 1 },
  }));
  const callerToken = 'caller-bearer-should-not-appear';
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(), { authorization: `Bearer ${callerToken}`, cookie: 'session=cookie-should-not-appear' })).status, 200);
  simulator.control.revokeAllTokens(); // 401 -> refresh -> replay
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  await waitFor(() => (simulator.control.counts.tokenByGrant.refresh_token ?? 0) >= 1, 'a background refresh with the refresh_token grant');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  simulator.control.failInference(1, { status: 500 });
  await infer(gw.url, 'ccfraud', ccfraudBody());
  await infer(gw.url, 'ccfraud', '{not json');
  await infer(gw.url, 'nope', '[]');
  simulator.control.tokenEndpointDown = true;
  simulator.control.revokeAllTokens();
  await infer(gw.url, 'ccfraud', ccfraudBody()); // token unavailable path

  const outputs = [gw.logText(), (await call(`${gw.url}/metrics`)).text, (await call(`${gw.url}/pipelines`)).text];
  const secrets = [clientSecret, password, callerToken, 'cookie-should-not-appear', ...simulator.control.issuedTokens];
  assert.ok(simulator.control.issuedTokens.length >= 4, 'several tokens were issued and are checked');
  for (const output of outputs) {
    for (const secret of secrets) assert.ok(!output.includes(secret), `leaked: ${secret.slice(0, 12)}...`);
    // Any JWT-looking string at all would be a leak.
    assert.doesNotMatch(output, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  }
  assert.ok(gw.logs.some((l) => l.msg === 'token endpoint failing; retrying with backoff'), 'the failure path was exercised');
});
