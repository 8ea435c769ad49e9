import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';

// While the gateway drains (it still serves for server.drainDelayMs), a request that joins a batch does not wait
// maxDelayMs for company: its batch is sent as soon as it opens. Here maxDelayMs is longer than the pipeline
// timeout, so a batch that waited for it would never reach Wallaroo.
test('a batch opened while draining is sent without waiting for maxDelayMs', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 10, maxDelayMs: 10_000 }, { timeoutMs: 6_000, maxConcurrency: 4 });
  const { simulator, gateway, callRows } = setup;
  const { release, blocker } = await occupy(setup);
  t.after(release);
  gateway.gateway.startDraining();

  const batchSent = simulator.control.waitFor('inference-received');
  const member = infer(gateway.url, 'batched', JSON.stringify(tutorialRows(1)), { 'x-request-id': 'while-draining' });
  await batchSent;
  // It went as a batch (the call in flight kept it from going alone), under the batch's own request id.
  assert.notEqual(simulator.control.seen.at(-1)!.headers['x-request-id'], 'while-draining');
  release();
  assert.equal((await member).status, 200);
  assert.equal((await blocker).status, 200);
  assert.deepEqual(callRows, [1, 1]);
});
