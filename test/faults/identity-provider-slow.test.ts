import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useFaultyIdp } from '../helpers/faulty-idp.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('identity provider answering in 3 s with a 1 s pipeline timeout: a coded 503 at the deadline, then the slow token is used, not fetched again', async (t) => {
  const simulator = await useSimulator(t, { mlopsAcceptsServiceAccountTokens: true });
  // Only the inference token is fetched (no MLOps user; this simulator's MLOps API accepts it): every token request is one.
  const idp = await useFaultyIdp(t, simulator.tokenUrl);
  idp.mode = { kind: 'slow', delayMs: 3_000 };
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: idp.tokenUrl }, mlops: null },
    pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: 1_000 }],
  }));
  const started = Date.now();
  const early = await infer(gw.url, 'ccfraud', ccfraudBody());
  const elapsed = Date.now() - started;
  assert.equal(early.status, 503, early.text);
  assert.equal(early.json<{ code: string }>().code, 'GW_TOKEN_UNAVAILABLE');
  assert.ok(elapsed < 2_500, `answered at the deadline, not when the provider did (${elapsed} ms)`);
  const notReady = await call(`${gw.url}/readyz`);
  assert.equal(notReady.status, 503, 'no first token yet');
  assert.match(notReady.json<{ message: string }>().message, /no Wallaroo token obtained yet/);

  await waitFor(() => gw.gateway.tokens.inference.hasValidToken(), 'the slow token to arrive');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal((await call(`${gw.url}/readyz`)).status, 200);
  assert.equal(idp.requests, 1, 'the caller that gave up did not cause another token request');
});
