import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';

// Wallaroo failing a batch for its own reasons (not the input's) is no member's fault and nothing a re-send would
// fix: each member gets Wallaroo's answer as it would alone, with its own request id, and the batch counts once
// toward the circuit breaker.
test('a 500 from Wallaroo on a batch reaches each member once, as one breaker outcome', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 3, maxDelayMs: 10_000 }, { circuitBreaker: { failureThreshold: 3, cooldownMs: 60_000 } });
  const { simulator, gateway, callRows } = setup;
  const { release, blocker } = await occupy(setup);
  simulator.control.failInference(2); // the blocker's call and the batch's
  const batchReceived = simulator.control.waitFor('inference-received');
  const answers = Promise.all(tutorialRows(3).map((row, i) => infer(gateway.url, 'batched', JSON.stringify([row]), { 'x-request-id': `member-${i}` })));
  await batchReceived;
  release();
  const batched = await answers;
  const failed = await blocker;
  assert.equal(failed.status, 500);
  for (const [i, answer] of batched.entries()) {
    assert.equal(answer.status, 500);
    assert.equal(answer.text, failed.text);
    assert.equal(answer.headers['x-gateway-upstream-status'], '500');
    assert.equal(answer.headers['x-request-id'], `member-${i}`);
  }
  assert.equal(simulator.control.counts.inference, 2); // nothing re-sent
  assert.deepEqual(callRows, []); // the injected failures answer before the engine reads the rows
  // Two failures (the blocker and the batch) under a threshold of three: still closed.
  assert.equal((await pipelineStatus(gateway.url, 'batched')).breaker, 'closed');
});
