import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { infer, JSON_RECORDS } from '../helpers/http.ts';
import { waitFor } from '../helpers/wait.ts';

// A caller that leaves once its batch is on its way to Wallaroo: the call goes on for the others (it is not
// aborted), the leaving caller's rows are answered by Wallaroo and dropped, and the others get exactly theirs.
test('a caller that leaves after its batch was sent does not disturb the others', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 3, maxDelayMs: 10_000 });
  const { simulator, gateway, callRows } = setup;
  const [leaving, ...staying] = tutorialRows(3).map((row) => JSON.stringify([row]));

  const { release, blocker } = await occupy(setup);
  const batchReceived = simulator.control.waitFor('inference-received');
  const controller = new AbortController();
  const left = request(`${gateway.url}/pipelines/batched/infer`, {
    method: 'POST', headers: { 'content-type': JSON_RECORDS, 'x-request-id': 'leaving' }, body: leaving, signal: controller.signal,
  }).then(() => 'answered', () => 'aborted');
  const answers = Promise.all(staying.map((body) => infer(gateway.url, 'batched', body)));
  await batchReceived; // held at Wallaroo with all three rows
  controller.abort();
  assert.equal(await left, 'aborted');
  const line = await waitFor(() => gateway.logs.find((entry) => entry.msg === 'request' && entry.reqId === 'leaving'), "the leaving caller's log line");
  assert.equal(line.status, 499);
  release();
  const batched = await answers;
  assert.equal((await blocker).status, 200);
  assert.deepEqual(callRows, [1, 3]);
  assert.equal(simulator.control.counts.abortedByCaller, 0);
  for (const [i, body] of staying.entries()) {
    assert.equal(batched[i]!.status, 200);
    assert.equal(withoutTimes(batched[i]!.text), withoutTimes((await infer(gateway.url, 'alone', body)).text));
  }
});
