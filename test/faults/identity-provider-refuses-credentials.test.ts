import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useFaultyIdp } from '../helpers/faulty-idp.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('identity provider answering 401 invalid_client: the next attempt waits the backoff cap at once (no retry 4 times a second), callers are told when', async (t) => {
  const simulator = await useSimulator(t, { mlopsAcceptsServiceAccountTokens: true });
  // Only the inference token is fetched (no MLOps user; this simulator's MLOps API accepts it): every token request is one.
  const idp = await useFaultyIdp(t, simulator.tokenUrl);
  idp.mode = { kind: 'answer', status: 401, body: '{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}' };
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: idp.tokenUrl }, mlops: null },
  }));
  await waitFor(() => idp.requests === 1, 'the first attempt');
  // An observation window, not synchronisation: the old schedule retried refused credentials within it.
  for (let i = 0; i < 10; i++) {
    const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
    assert.equal(answer.status, 503);
    assert.equal(answer.json<{ message: string }>().message, 'no valid Wallaroo inference token: token endpoint answered 401 invalid_client');
    assert.ok(Number(answer.headers['retry-after']) >= 25, `Retry-After ${String(answer.headers['retry-after'])}`);
    await sleep(150);
  }
  assert.equal(idp.requests, 1, 'refused credentials are not retried before the cap');
  const ready = await call(`${gw.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(ready.json<{ message: string }>().message, /token endpoint answered 401 invalid_client; next attempt in \d+ ms/);
  assert.ok(!gw.logText().includes('Invalid client or Invalid client credentials'), 'the provider’s description is never echoed');
});
