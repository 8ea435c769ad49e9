import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useFaultyIdp } from '../helpers/faulty-idp.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('a caller that leaves while its request waits for a token is never sent to Wallaroo once the token arrives', async (t) => {
  const simulator = await useSimulator(t, { mlopsAcceptsServiceAccountTokens: true });
  // Only the inference token is fetched (no MLOps user; this simulator's MLOps API accepts it): every token request is one.
  const idp = await useFaultyIdp(t, simulator.tokenUrl);
  idp.mode = { kind: 'slow', delayMs: 1_500 };
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: idp.tokenUrl }, mlops: null },
    pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: 10_000 }],
  }));
  const controller = new AbortController();
  const abandoned = request(`${gw.url}/pipelines/ccfraud/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: ccfraudBody(), signal: controller.signal,
  }).catch((error: Error) => error.name);
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).inflight === 1, 'the request to wait inside the gateway');
  controller.abort();
  assert.equal(await abandoned, 'AbortError');
  await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).inflight === 0, 'the gateway to let the request go');

  await waitFor(() => gw.gateway.tokens.inference.hasValidToken(), 'the slow token to arrive');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal(simulator.control.counts.inference, 1, 'only the request whose caller stayed reached Wallaroo');
  const line = gw.logs.find((l) => l.msg === 'request' && l.status === 499);
  assert.equal(line?.code, 'GW_CALLER_GONE', 'logged as the caller leaving, not as a failure of Wallaroo');
});
