import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchingSetup, tutorialRows } from '../helpers/batching.ts';
import { call, infer } from '../helpers/http.ts';

// A request on an idle batched pipeline (nothing pending, no call in flight) has nobody to share a call with: it
// is sent at once, not held for maxDelayMs. With maxDelayMs far beyond the pipeline's timeout, a held request
// could only end in a 504.
test('a lone request on an idle batched pipeline is sent at once', async (t) => {
  const { gateway, callRows } = await batchingSetup(t, { maxRows: 64, maxDelayMs: 10_000 }, { timeoutMs: 3_000 });
  for (let i = 0; i < 3; i++) {
    const answer = await infer(gateway.url, 'batched', JSON.stringify(tutorialRows(1, i)), { 'x-request-id': `lone-${i}` });
    assert.equal(answer.status, 200);
  }
  assert.deepEqual(callRows, [1, 1, 1]);
  const lines = gateway.logs.filter((line) => line.msg === 'request' && String(line.reqId).startsWith('lone-'));
  assert.equal(lines.length, 3);
  assert.ok(lines.every((line) => line.batchId === undefined && line.batchSize === undefined));
  const metrics = (await call(`${gateway.url}/metrics`)).text;
  // Each waited 0 s for a batch; no batch was formed.
  assert.match(metrics, /^wallaroo_gateway_batch_wait_seconds_bucket\{le="0\.0001",pipeline="batched"\} 3$/m);
  assert.match(metrics, /^wallaroo_gateway_batch_rows_count\{pipeline="batched"\} 0$/m);
});
