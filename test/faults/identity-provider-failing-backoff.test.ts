import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useFaultyIdp } from '../helpers/faulty-idp.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('identity provider answering 500: attempts back off exponentially (250 ms doubling, full jitter), callers get fast 503s, and the log says so once', async (t) => {
  const simulator = await useSimulator(t, { mlopsAcceptsServiceAccountTokens: true });
  // Only the inference token is fetched (no MLOps user; this simulator's MLOps API accepts it): every token request is one.
  const idp = await useFaultyIdp(t, simulator.tokenUrl);
  idp.mode = { kind: 'answer', status: 500, body: '{"error":"unknown_error"}' };
  // random() = 0.5 makes the jitter deterministic: attempts 125, 250, 500, 1000, 2000 ms apart.
  const gw = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: simulator.url, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: idp.tokenUrl }, mlops: null },
  }), {}, { random: () => 0.5 });
  const first = Date.now();
  let requests = 0;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
      assert.equal(answer.status, 503);
      assert.equal(answer.json<{ code: string }>().code, 'GW_TOKEN_UNAVAILABLE');
      requests++;
    }
  };
  const traffic = Promise.all(Array.from({ length: 4 }, worker));
  while (idp.requests < 5) await once(idp.events, 'request');
  const fifthAt = Date.now() - first;
  const requestsAtFifth = requests;
  while (idp.requests < 6) await once(idp.events, 'request');
  const sixthAt = Date.now() - first;
  stop = true;
  await traffic;
  // No attempt sooner than the schedule (the old one retried every 250 ms, three attempts per fetch: about a
  // dozen attempts by the fifth of these), however much traffic waits for a token.
  assert.ok(fifthAt >= 1_800, `fifth attempt after ${fifthAt} ms`);
  assert.ok(sixthAt >= 3_800, `sixth attempt after ${sixthAt} ms`);
  // Between the fifth and the sixth (2 s), callers were answered at once, and none of them caused an attempt.
  assert.ok(requests - requestsAtFifth >= 10, `callers answered between attempts: ${requests - requestsAtFifth}`);
  const failing = gw.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('token endpoint'));
  assert.equal(failing.length, 1, `one line per change of state: ${JSON.stringify(failing.map((l) => l.msg))}`);
  assert.equal(failing[0]!.cause, 'token endpoint answered 500 unknown_error');
});
