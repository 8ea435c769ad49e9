import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';

// A batch goes through the same upstream client as a single request: Wallaroo refusing the token (revoked while
// the batch formed) gets one fresh token and one replay of the whole batch, and every member its own answer.
test('a 401 on a batch is replayed once with a fresh token for the whole batch', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 3, maxDelayMs: 10_000 });
  const { simulator, gateway, callRows } = setup;
  const bodies = tutorialRows(3).map((row) => JSON.stringify([row]));
  const { release, blocker } = await occupy(setup);
  simulator.control.revokeAllTokens();
  let received = 0;
  const replayed = simulator.control.waitFor('inference-received', () => ++received === 2); // the refused batch, then its replay
  const answers = Promise.all(bodies.map((body, i) => infer(gateway.url, 'batched', body, { 'x-request-id': `member-${i}` })));
  await replayed; // the batch with the revoked token was refused (401); its replay is held
  release();
  const batched = await answers;
  assert.equal((await blocker).status, 200);
  assert.equal(simulator.control.counts.inference, 3);
  assert.deepEqual(callRows, [1, 3]);
  for (const [i, body] of bodies.entries()) {
    assert.equal(batched[i]!.status, 200);
    assert.equal(withoutTimes(batched[i]!.text), withoutTimes((await infer(gateway.url, 'alone', body)).text));
  }
  const lines = gateway.logs.filter((line) => line.msg === 'request' && String(line.reqId).startsWith('member-'));
  assert.equal(lines.length, 3);
  assert.ok(lines.every((line) => JSON.stringify(line.replays) === '["token"]' && line.batchSize === 3));
});
