import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { batchingSetup, occupy, tutorialRows } from '../helpers/batching.ts';
import { JSON_RECORDS } from '../helpers/http.ts';
import { waitFor } from '../helpers/wait.ts';

// When every member of a sent batch has left, nobody waits for the answer: the call to Wallaroo is aborted.
test('a batch whose callers have all left is aborted at Wallaroo', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 2, maxDelayMs: 10_000 });
  const { simulator, gateway } = setup;
  const { release, blocker } = await occupy(setup);
  const batchReceived = simulator.control.waitFor('inference-received');
  const controllers = [new AbortController(), new AbortController()];
  const calls = tutorialRows(2).map((row, i) =>
    request(`${gateway.url}/pipelines/batched/infer`, {
      method: 'POST', headers: { 'content-type': JSON_RECORDS, 'x-request-id': `member-${i}` }, body: JSON.stringify([row]), signal: controllers[i]!.signal,
    }).then(() => 'answered', () => 'aborted'),
  );
  await batchReceived;
  const aborted = simulator.control.waitFor('caller-aborted');
  controllers[0]!.abort();
  await waitFor(() => gateway.logs.find((entry) => entry.msg === 'request' && entry.reqId === 'member-0'), "the first caller's log line");
  assert.equal(simulator.control.counts.abortedByCaller, 0); // one member is still waiting
  controllers[1]!.abort();
  await aborted;
  assert.deepEqual(await Promise.all(calls), ['aborted', 'aborted']);
  release();
  assert.equal((await blocker).status, 200);
  assert.equal(simulator.control.counts.abortedByCaller, 1);
});
