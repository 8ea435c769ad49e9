import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { infer, JSON_RECORDS } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { waitFor } from '../helpers/wait.ts';

/** Requests waiting for their batch on the `batched` pipeline, polled from GET /pipelines until it is `count`. */
function batchWaiting(gatewayUrl: string, count: number): Promise<unknown> {
  return waitFor(async () => (await pipelineStatus(gatewayUrl, 'batched') as unknown as { batchWaiting: number }).batchWaiting === count, `${count} waiting for a batch`);
}

// A caller that leaves while its batch is still forming is out of it: its rows never reach Wallaroo, and the batch
// fills up without it.
test('a caller that leaves before its batch is sent is dropped from the batch', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 3, maxDelayMs: 10_000 });
  const { simulator, gateway, callRows } = setup;
  const [leaving, ...staying] = tutorialRows(4).map((row) => JSON.stringify([row]));

  const { release, blocker } = await occupy(setup);
  const controller = new AbortController();
  const left = request(`${gateway.url}/pipelines/batched/infer`, {
    method: 'POST', headers: { 'content-type': JSON_RECORDS, 'x-request-id': 'leaving' }, body: leaving, signal: controller.signal,
  }).then(() => 'answered', () => 'aborted');
  const firstStaying = infer(gateway.url, 'batched', staying[0]!);
  await batchWaiting(gateway.url, 2);
  controller.abort();
  assert.equal(await left, 'aborted');
  await batchWaiting(gateway.url, 1);

  const batchReceived = simulator.control.waitFor('inference-received');
  const answers = Promise.all([firstStaying, ...staying.slice(1).map((body) => infer(gateway.url, 'batched', body))]);
  await batchReceived; // three rows again: the batch is full without the caller that left
  release();
  const batched = await answers;
  assert.equal((await blocker).status, 200);
  assert.deepEqual(callRows, [1, 3]);
  for (const [i, body] of staying.entries()) {
    assert.equal(batched[i]!.status, 200);
    assert.equal(withoutTimes(batched[i]!.text), withoutTimes((await infer(gateway.url, 'alone', body)).text));
  }
  const line = await waitFor(() => gateway.logs.find((entry) => entry.msg === 'request' && entry.reqId === 'leaving'), "the leaving caller's log line");
  assert.equal(line.status, 499);
  assert.equal(line.batchId, undefined);
});
