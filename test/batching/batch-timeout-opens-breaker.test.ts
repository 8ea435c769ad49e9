import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { waitFor } from '../helpers/wait.ts';

// A batched call that Wallaroo never answers ends when its members' deadlines pass: that is Wallaroo's timeout,
// held against it by the breaker as a lone request's is, not a caller leaving (which the breaker ignores).
test('a batched call whose members all time out counts as a failure for the circuit breaker', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 2, maxDelayMs: 10_000 }, { timeoutMs: 3_000, maxConcurrency: 2, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } });
  const { simulator, gateway } = setup;
  const { release, blocker } = await occupy(setup);
  t.after(release);
  const batchReceived = simulator.control.waitFor('inference-received');
  const members = tutorialRows(2).map((row, i) => infer(gateway.url, 'batched', JSON.stringify([row]), { 'x-request-id': `member-${i}` }));
  await batchReceived;
  // The two members went as one call (the batch's own request id), beside the blocker's.
  assert.equal(simulator.control.seen.length, 2);
  assert.ok(!['member-0', 'member-1'].includes(String(simulator.control.seen[1]!.headers['x-request-id'])));

  // The blocker, alone, times out first: one failure, under the threshold.
  assert.equal((await blocker).status, 504);
  assert.equal((await pipelineStatus(gateway.url, 'batched')).breaker, 'closed');

  for (const answer of await Promise.all(members)) {
    assert.equal(answer.status, 504);
    assert.equal(answer.json<{ code: string }>().code, 'GW_UPSTREAM_TIMEOUT');
  }
  // The batch's timeout is the second failure in a row.
  await waitFor(async () => (await pipelineStatus(gateway.url, 'batched')).breaker === 'open', 'the breaker to open', 10_000);
});
