import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';
import { waitFor } from '../helpers/wait.ts';

interface Listing { pipelines: Array<{ name: string; batchWaiting: number | null }> }

// When the gateway starts draining (SIGTERM), requests waiting for their batch are sent at once rather than after
// maxDelayMs, so they can be answered within the shutdown grace. Here maxDelayMs is longer than the pipeline
// timeout: without the flush the members' deadlines pass first and Wallaroo never receives them.
test('draining sends the pending batches at once', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 10, maxDelayMs: 10_000 }, { timeoutMs: 6_000, maxConcurrency: 4 });
  const { simulator, gateway, callRows } = setup;
  const { release, blocker } = await occupy(setup);
  t.after(release);
  const members = tutorialRows(2).map((row) => infer(gateway.url, 'batched', JSON.stringify([row])));
  await waitFor(async () => {
    const listing = (await fetch(`${gateway.url}/pipelines`).then((r) => r.json())) as Listing;
    return listing.pipelines.find((p) => p.name === 'batched')!.batchWaiting === 2;
  }, 'both members to wait for their batch');

  const batchSent = simulator.control.waitFor('inference-received');
  gateway.gateway.startDraining();
  await batchSent;
  release();
  for (const answer of await Promise.all(members)) assert.equal(answer.status, 200);
  assert.equal((await blocker).status, 200);
  assert.deepEqual([...callRows].sort(), [1, 2]);
});
