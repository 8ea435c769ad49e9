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
  for (let i = 0; i < 2; i++) {
    const answer = await infer(gw.url, 'summary', body, { accept: 'application/json' });
    assert.equal(answer.status, 504, answer.text);
    assert.deepEqual(answer.json(), {
      statusCode: 504, code: 'GW_DEADLINE_EXCEEDED', error: 'Gateway Timeout',
      message: 'pipeline summary: the 300 ms timeout passed before the request was sent to Wallaroo',
    });
  }
  assert.equal(simulator.control.counts.inference, sentBefore, 'nothing was sent to Wallaroo');
  const listing = (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ name: string; breaker: string }> }>();
  assert.equal(listing.pipelines.find((p) => p.name === 'summary')?.breaker, 'closed', 'the gateway’s own time is not held against Wallaroo');
  assert.equal((await infer(gw.url, 'summary', JSON.stringify([{ a: 1 }]), { accept: 'application/json' })).status, 200);
});
