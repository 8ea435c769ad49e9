import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';

// One caller's row fails Wallaroo's check, so Wallaroo refuses the whole batch: the gateway re-sends the members
// one by one, and only the bad request hears about its row; the others get their answers as if alone.
test('a batch refused for one bad row fails only the request that sent it', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 4, maxDelayMs: 10_000 });
  const { simulator, gateway, callRows } = setup;
  const good = tutorialRows(3).map((row) => JSON.stringify([row]));
  const bad = JSON.stringify([{ tensor: [1, 2, 3] }]); // 3 values where the model reads 29
  const bodies = [good[0]!, bad, good[1]!, good[2]!];

  const { release, blocker } = await occupy(setup);
  const batchReceived = simulator.control.waitFor('inference-received');
  const answers = Promise.all(bodies.map((body, i) => infer(gateway.url, 'batched', body, { 'x-request-id': `member-${i}` })));
  await batchReceived;
  release();
  const batched = await answers;
  assert.equal((await blocker).status, 200);

  const badAlone = await infer(gateway.url, 'alone', bad);
  assert.ok(badAlone.status === 400 || badAlone.status === 500, `Wallaroo refuses the bad row (${badAlone.status})`);
  assert.equal(batched[1]!.status, badAlone.status);
  assert.equal(batched[1]!.text, badAlone.text);
  assert.equal(batched[1]!.headers['x-request-id'], 'member-1');
  for (const i of [0, 2, 3]) {
    const alone = await infer(gateway.url, 'alone', bodies[i]!);
    assert.equal(batched[i]!.status, 200);
    assert.equal(withoutTimes(batched[i]!.text), withoutTimes(alone.text));
  }
  // The blocker, the refused batch (4 rows), then one call per member; the checks above called alone 4 more times.
  assert.deepEqual(callRows.slice(0, 2), [1, 4]);
  assert.deepEqual(callRows.slice(2, 6).sort(), [1, 1, 1, 1]);
  assert.equal(simulator.control.counts.inference, 1 + 1 + 4 + 4);
});
