import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('MLOps API hanging: callers get 504 GW_DISCOVERY_TIMEOUT at their deadline from one shared lookup, then the failure is remembered; still ready', async (t) => {
  const simulator = await useSimulator(t);
  // A Wallaroo whose MLOps API accepts connections and never answers; tokens come from the simulator.
  const held: Socket[] = [];
  let mlopsCalls = 0;
  const port = await listenRaw(t, (socket) => {
    held.push(socket);
    socket.on('data', (data) => {
      if (data.toString('latin1').startsWith('POST /v1/api/')) mlopsCalls++;
    });
  });
  t.after(() => held.forEach((socket) => socket.destroy()));
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: `http://127.0.0.1:${port}`, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: simulator.tokenUrl } },
    pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: 800 }],
    discovery: { timeoutMs: 1_500, negativeTtlSeconds: 30 },
  }));
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 10 }, () => infer(gw.url, 'ccfraud', ccfraudBody())));
  const elapsed = Date.now() - started;
  for (const answer of answers) {
    assert.equal(answer.status, 504, answer.text);
    assert.deepEqual(answer.json(), {
      statusCode: 504, code: 'GW_DISCOVERY_TIMEOUT', error: 'Gateway Timeout',
      message: 'pipeline ccfraud: the MLOps API did not give its inference URL within the pipeline timeout (800 ms)',
    });
  }
  // Bound: the deadline plus scheduling slack on a busy machine; before, each waited the MLOps call's own 10 s.
  assert.ok(elapsed < 800 + 4_000, `answered at the deadline (${elapsed} ms), not after the MLOps API's own timeout`);
  assert.equal(mlopsCalls, 1, 'ten callers shared one lookup');

  // The lookup gives up after discovery.timeoutMs; its failure is then remembered: callers fail fast.
  await waitFor(async () => (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ lastDiscoveryError: unknown }> }>().pipelines[0]!.lastDiscoveryError, 'the lookup to fail');
  const fast = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(fast.status, 502);
  assert.deepEqual(fast.json(), {
    statusCode: 502, code: 'GW_DISCOVERY_FAILED', error: 'Bad Gateway', message: 'MLOps API /workspaces/list gave no answer within 1500 ms',
  });
  assert.equal(mlopsCalls, 1, 'a remembered failure costs no MLOps call');
  const listing = (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ lastDiscoveryError: { code: string; message: string } }> }>();
  assert.equal(listing.pipelines[0]!.lastDiscoveryError.code, 'GW_DISCOVERY_FAILED');
  assert.equal((await call(`${gw.url}/readyz`)).status, 200);
});
