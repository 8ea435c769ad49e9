import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BatchingSetup, batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { type Answer, infer } from '../helpers/http.ts';

/** Three one-row callers in one batch while a call is in flight; their answers once everything is let go. */
async function batchOfThree(setup: BatchingSetup, bodies: string[]): Promise<Answer[]> {
  const { release, blocker } = await occupy(setup);
  const batchReceived = setup.simulator.control.waitFor('inference-received');
  const answers = Promise.all(bodies.map((body) => infer(setup.gateway.url, 'batched', body)));
  await batchReceived;
  release();
  assert.equal((await blocker).status, 200);
  return answers;
}

// A pipeline that filters rows answers a batch with fewer rows than it was sent: the answer cannot be split, so
// the members are sent one by one and each still gets its own answer; the gateway says once that the pipeline
// should not be batched.
test('an answer with another row count than the batch falls back to one call per member, logged once', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 3, maxDelayMs: 10_000 });
  const { simulator, gateway, callRows } = setup;
  simulator.control.answerRowLimit = 1;
  const bodies = tutorialRows(3).map((row) => JSON.stringify([row]));

  const first = await batchOfThree(setup, bodies);
  assert.deepEqual(callRows.slice(0, 2), [1, 3]);
  assert.deepEqual(callRows.slice(2), [1, 1, 1]);
  for (const [i, body] of bodies.entries()) {
    const alone = await infer(gateway.url, 'alone', body);
    assert.equal(first[i]!.status, 200);
    assert.equal(withoutTimes(first[i]!.text), withoutTimes(alone.text));
  }
  const second = await batchOfThree(setup, bodies);
  assert.deepEqual(second.map((answer) => answer.status), [200, 200, 200]);

  const warnings = gateway.logs.filter((line) => line.level === 'warn' && String(line.msg).includes('another number of rows'));
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.pipeline, 'batched');
  assert.equal(warnings[0]!.rows, 3);
});
