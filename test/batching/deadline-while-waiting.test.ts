import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';

// Each member keeps its own deadline: one whose pipeline timeout passes while its batch is still forming gets its
// own 504 and leaves the batch, and its rows never reach Wallaroo.
test('a request whose deadline passes while it waits for a batch gets its own 504', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 10, maxDelayMs: 10_000 }, { timeoutMs: 2_000 });
  const { simulator, gateway } = setup;
  const { release, blocker } = await occupy(setup);
  // The blocker and this request share the pipeline's timeout; this one arrives later, so the blocker's call is
  // still in flight when it arrives (it joins a batch rather than going alone).
  const answer = await infer(gateway.url, 'batched', JSON.stringify(tutorialRows(1)), { 'x-request-id': 'late' });
  assert.equal(answer.status, 504);
  assert.deepEqual(answer.json(), { statusCode: 504, code: 'GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout', message: 'no answer within the pipeline timeout (2000 ms)' });
  assert.equal(answer.headers['x-request-id'], 'late');
  release();
  assert.equal((await blocker).status, 504); // the blocker was held past its own deadline
  assert.equal(simulator.control.counts.inference, 1); // the blocker only: the late request's batch was never sent
});
