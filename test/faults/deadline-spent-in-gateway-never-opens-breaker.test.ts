import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a deadline spent converting a large body inside the gateway is 504 GW_DEADLINE_EXCEEDED, nothing is sent, and the breaker stays closed', async (t) => {
  // 10^6 tiny rows are read in milliseconds but take far longer than 300 ms to convert to Arrow (within every budget).
  const body = `[${Array.from({ length: 1_000_000 }, () => '{"a":1}').join(',')}]`;
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'arrow', timeoutMs: 300, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } }],
  }));
  // Discovery and the token are done first, so only the conversion stands between the body and Wallaroo.
  assert.equal((await infer(gw.url, 'summary', JSON.stringify([{ a: 1 }]), { accept: 'application/json' })).status, 200);
  const sentBefore = simulator.control.counts.inference;
  // Two deadlines spent converting (the second proves the first was not held against Wallaroo: the breaker opens
  // after one failure). On a loaded machine the gateway may not even finish reading the 8 MB within 300 ms: that
  // attempt is the caller's 408, also never sent nor held against Wallaroo, and the test tries again (bounded).
  let spentConverting = 0;
  const slowReads: number[] = [];
  for (let attempt = 0; spentConverting < 2; attempt++) {
    assert.ok(attempt < 8, `only ${spentConverting} of 8 attempts reached the conversion (the others: 408 while the body was read)`);
    const answer = await infer(gw.url, 'summary', body, { accept: 'application/json' });
    if (answer.status === 408 && answer.json<{ code: string }>().code === 'GW_REQUEST_TIMEOUT') {
      slowReads.push(attempt);
      continue;
    }
    assert.equal(answer.status, 504, answer.text);
    assert.deepEqual(answer.json(), {
      statusCode: 504, code: 'GW_DEADLINE_EXCEEDED', error: 'Gateway Timeout',
      message: 'pipeline summary: the 300 ms timeout passed before the request was sent to Wallaroo',
    });
    spentConverting++;
  }
  if (slowReads.length > 0) t.diagnostic(`attempts answered 408 while the body was still being read: ${slowReads.join(', ')}`);
  assert.equal(simulator.control.counts.inference, sentBefore, 'nothing was sent to Wallaroo');
  const listing = (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ name: string; breaker: string }> }>();
  assert.equal(listing.pipelines.find((p) => p.name === 'summary')?.breaker, 'closed', 'the gateway’s own time is not held against Wallaroo');
  assert.equal((await infer(gw.url, 'summary', JSON.stringify([{ a: 1 }]), { accept: 'application/json' })).status, 200);
});
