import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { waitFor } from '../helpers/wait.ts';

// With every concurrency slot busy, a batch whose delay has passed keeps taking members until its slot comes:
// requests arriving meanwhile ride in that one call instead of queueing for a slot each.
test('a batch waiting for a slot keeps taking members', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 64, maxDelayMs: 0 }, { maxConcurrency: 1 });
  const { gateway, callRows } = setup;
  const bodies = tutorialRows(3).map((row) => JSON.stringify([row]));
  const { release, blocker } = await occupy(setup); // holds the pipeline's only slot
  const answers = Promise.all(bodies.map((body) => infer(gateway.url, 'batched', body)));
  await waitFor(async () => (await pipelineStatus(gateway.url, 'batched') as unknown as { batchWaiting: number }).batchWaiting === 3, 'three requests waiting for one batch');
  release();
  const batched = await answers;
  assert.equal((await blocker).status, 200);
  assert.deepEqual(callRows, [1, 3]);
  for (const [i, body] of bodies.entries()) {
    assert.equal(batched[i]!.status, 200);
    assert.equal(withoutTimes(batched[i]!.text), withoutTimes((await infer(gateway.url, 'alone', body)).text));
  }
});
