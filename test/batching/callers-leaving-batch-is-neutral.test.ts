import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { batchingSetup, occupy, tutorialRows } from '../helpers/batching.ts';
import { call, JSON_RECORDS } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { waitFor } from '../helpers/wait.ts';

// A batched call aborted because every caller disconnected says nothing about Wallaroo: the breaker does not
// count it (unlike a call whose members' deadlines passed).
test('a batched call aborted because its callers disconnected does not count against the circuit breaker', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 2, maxDelayMs: 10_000 }, { maxConcurrency: 2, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } });
  const { simulator, gateway } = setup;
  const { release, blocker } = await occupy(setup);
  t.after(release);
  const batchReceived = simulator.control.waitFor('inference-received');
  const controllers = [new AbortController(), new AbortController()];
  const calls = tutorialRows(2).map((row, i) =>
    request(`${gateway.url}/pipelines/batched/infer`, {
      method: 'POST', headers: { 'content-type': JSON_RECORDS }, body: JSON.stringify([row]), signal: controllers[i]!.signal,
    }).then(() => 'answered', () => 'aborted'),
  );
  await batchReceived;
  assert.equal(await slotsInUse(gateway.url), 2);
  for (const controller of controllers) controller.abort();
  assert.deepEqual(await Promise.all(calls), ['aborted', 'aborted']);
  // The batch's slot is freed after its verdict: only the blocker is left in flight.
  await waitFor(async () => (await slotsInUse(gateway.url)) === 1, 'the batch to release its slot');
  assert.equal((await pipelineStatus(gateway.url, 'batched')).breaker, 'closed');
  release();
  assert.equal((await blocker).status, 200);
});

/** Concurrency slots of the batched pipeline in use (the status page's figures). */
async function slotsInUse(gatewayUrl: string): Promise<number> {
  const status = (await call(`${gatewayUrl}/status.json`)).json<{ pipelines: Array<{ name: string; active: number }> }>();
  return status.pipelines.find((p) => p.name === 'batched')!.active;
}
