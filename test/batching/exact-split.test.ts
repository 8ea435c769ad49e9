import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { infer } from '../helpers/http.ts';

// Callers sending one, two and three of Wallaroo's tutorial rows share one call; each gets exactly its rows, with
// its own request id, byte for byte what it gets calling alone (apart from `time` and `elapsed`).
test('every member of a batch gets exactly the answer it gets alone', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 10, maxDelayMs: 10_000 });
  const { simulator, gateway, callRows } = setup;
  const rows = tutorialRows(10);
  const bodies = [rows.slice(0, 1), rows.slice(1, 3), rows.slice(3, 4), rows.slice(4, 7), rows.slice(7, 8), rows.slice(8, 10)].map((r) => JSON.stringify(r));

  const { release, blocker } = await occupy(setup);
  const batchReceived = simulator.control.waitFor('inference-received');
  const answers = Promise.all(bodies.map((body, i) => infer(gateway.url, 'batched', body, { 'x-request-id': `member-${i}` })));
  await batchReceived; // 10 rows: the batch is full and sent
  release();
  const batched = await answers;
  assert.equal((await blocker).status, 200);
  assert.deepEqual(callRows, [1, 10]);

  for (const [i, body] of bodies.entries()) {
    const alone = await infer(gateway.url, 'alone', body);
    assert.equal(alone.status, 200);
    assert.equal(batched[i]!.status, 200);
    assert.equal(batched[i]!.headers['x-request-id'], `member-${i}`);
    assert.equal(batched[i]!.headers['content-type'], alone.headers['content-type']);
    assert.equal(withoutTimes(batched[i]!.text), withoutTimes(alone.text));
  }
  const lines = gateway.logs.filter((line) => line.msg === 'request' && line.pipeline === 'batched' && String(line.reqId).startsWith('member-'));
  assert.equal(lines.length, bodies.length);
  const batchIds = new Set(lines.map((line) => line.batchId));
  assert.equal(batchIds.size, 1);
  assert.match(String([...batchIds][0]), /^[0-9a-f-]{36}$/);
  assert.ok(lines.every((line) => line.batchSize === bodies.length));
});
