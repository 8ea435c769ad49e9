import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useFaultyIdp } from '../helpers/faulty-idp.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('a token with CR LF from the identity provider is a failed fetch (503 GW_TOKEN_UNAVAILABLE, not ready), never held and blamed on Wallaroo; a good token then serves', async (t) => {
  const simulator = await useSimulator(t, { mlopsAcceptsServiceAccountTokens: true });
  // Only the inference token is fetched (no MLOps user; this simulator's MLOps API accepts it).
  const idp = await useFaultyIdp(t, simulator.tokenUrl);
  idp.mode = { kind: 'answer', status: 200, body: JSON.stringify({ access_token: 'abc\r\nX-Injected: 1', token_type: 'Bearer', expires_in: 300 }) };
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: idp.tokenUrl }, mlops: null },
  }));
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 503, answer.text);
  assert.equal(answer.json<{ code: string; message: string }>().code, 'GW_TOKEN_UNAVAILABLE');
  assert.match(answer.json<{ message: string }>().message, /access_token that is not a valid bearer token/);
  assert.equal(simulator.control.counts.inference, 0, 'nothing sent to Wallaroo');
  const ready = await call(`${gw.url}/readyz`);
  assert.equal(ready.status, 503);
  const pipelines = await call(`${gw.url}/pipelines`);
  assert.equal(pipelines.json<{ pipelines: Array<{ name: string; breaker: string }> }>().pipelines.find((p) => p.name === 'ccfraud')?.breaker, 'closed', 'not held against Wallaroo');

  idp.mode = { kind: 'pass' };
  await waitFor(() => gw.gateway.tokens.inference.hasValidToken(), 'the next scheduled attempt to get a good token', 60_000);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
});
