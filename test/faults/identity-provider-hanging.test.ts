import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useFaultyIdp } from '../helpers/faulty-idp.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

const TIMEOUT_MS = 1_000;
// The bound on a coded answer: the pipeline timeout plus scheduling slack on a busy 2-core machine. Before the
// request lifecycle had a deadline, each of these requests waited three token attempts of 5 s.
const ANSWER_BOUND_MS = TIMEOUT_MS + 2_000;

test('identity provider hanging past the token lifetime: 503 GW_TOKEN_UNAVAILABLE within the pipeline timeout, still ready, token requests bounded, no slot lost', async (t) => {
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 2, mlopsAcceptsServiceAccountTokens: true });
  // Only the inference token is fetched (no MLOps user; this simulator's MLOps API accepts it): every token request is one.
  const idp = await useFaultyIdp(t, simulator.tokenUrl);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: idp.tokenUrl, refreshBeforeExpirySeconds: 0 }, mlops: null },
    pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: TIMEOUT_MS, maxConcurrency: 2, maxQueue: 4 }],
  }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);

  idp.mode = { kind: 'hang' };
  await waitFor(() => !gw.gateway.tokens.inference.hasValidToken(), 'the token to expire while the provider hangs');
  const requestsBefore = idp.requests;
  for (let i = 0; i < 6; i++) {
    const started = Date.now();
    const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
    const elapsed = Date.now() - started;
    assert.equal(answer.status, 503, answer.text);
    assert.equal(answer.json<{ code: string }>().code, 'GW_TOKEN_UNAVAILABLE');
    assert.match(String(answer.headers['retry-after']), /^\d+$/);
    assert.ok(elapsed < ANSWER_BOUND_MS, `answered in ${elapsed} ms`);
  }
  assert.ok(idp.requests - requestsBefore <= 2, `token requests during the outage: ${idp.requests - requestsBefore}`);
  assert.equal((await call(`${gw.url}/readyz`)).status, 200, 'an identity-provider outage does not make the replica unready');
  assert.equal(simulator.control.counts.inference, 1, 'nothing was sent without a token');

  idp.mode = { kind: 'pass' };
  await waitFor(() => gw.gateway.tokens.inference.hasValidToken(), 'recovery on the backoff schedule', 30_000);
  // maxConcurrency 2 and one queued: every slot the outage touched is free again.
  const answers = await Promise.all(Array.from({ length: 3 }, () => infer(gw.url, 'ccfraud', ccfraudBody())));
  assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
});
