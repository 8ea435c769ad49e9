import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { tutorialRows } from '../helpers/batching.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer, JSON_RECORDS } from '../helpers/http.ts';
import { listenHttp } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const TIMEOUT_MS = 4_000;

// A batch member is answered as if it had called alone: its deadline runs from arrival to Wallaroo's answer
// headers, and the answer body then has a bound of its own (the pipeline timeout again). Here the batch's headers
// come half a timeout after the members arrived and the body ends after their deadlines: each still gets its rows.
// Two witnesses on other pipelines (held by the stand-in, never answered) mark the time without sleeping: their
// 504s say half a timeout, then a whole one, has passed since the members arrived.
test("a batched answer whose headers came in time is read past the members' deadlines, within its own bound", async (t) => {
  const simulator = await useSimulator(t);
  let batchResponse: ServerResponse | null = null;
  let batchCalls = 0;
  let blockerArrived: () => void = () => undefined;
  const blockerArrival = new Promise<void>((resolve) => {
    blockerArrived = resolve;
  });
  let batchArrived: () => void = () => undefined;
  const batchArrival = new Promise<void>((resolve) => {
    batchArrived = resolve;
  });
  const answer = Buffer.from(JSON.stringify([{ out: { dense_1: [0.1] } }, { out: { dense_1: [0.2] } }]));
  const port = await listenHttp(t, (request, response) => {
    request.resume();
    // The blocker (keeping a call in flight so the members batch) and the witnesses are never answered.
    if (!request.url?.startsWith('/batched')) return;
    if (request.headers['x-request-id'] === 'blocker') {
      blockerArrived();
      return;
    }
    batchCalls++;
    batchResponse = response;
    batchArrived();
  });
  const at = (name: string) => ({ url: `http://127.0.0.1:${port}/${name}`, maxRetries: 0 });
  const gateway = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: `http://127.0.0.1:${port}`, mlops: null },
    pipelines: [
      { name: 'batched', ...at('batched'), timeoutMs: TIMEOUT_MS, batching: { maxRows: 2, maxDelayMs: 10_000 } },
      { name: 'half', ...at('half'), timeoutMs: TIMEOUT_MS / 2 },
      { name: 'whole', ...at('whole'), timeoutMs: TIMEOUT_MS },
    ],
  }));
  const blocker = infer(gateway.url, 'batched', JSON.stringify(tutorialRows(1, 900)), { 'x-request-id': 'blocker' });
  // The blocker must be in flight before the members come (or they would go alone).
  await blockerArrival;
  const witnesses = { half: infer(gateway.url, 'half', '[{"x":1}]'), whole: infer(gateway.url, 'whole', '[{"x":1}]') };
  const members = tutorialRows(2).map((row) => infer(gateway.url, 'batched', JSON.stringify([row])));
  await batchArrival;

  assert.equal((await witnesses.half).status, 504);
  batchResponse!.writeHead(200, { 'content-type': JSON_RECORDS, 'content-length': String(answer.length) });
  batchResponse!.write(answer.subarray(0, 1));
  assert.equal((await witnesses.whole).status, 504); // the members' deadlines have passed
  batchResponse!.end(answer.subarray(1));

  const [first, second] = await Promise.all(members);
  assert.equal(first!.status, 200, first!.text);
  assert.deepEqual(first!.json(), [{ out: { dense_1: [0.1] } }]);
  assert.equal(second!.status, 200, second!.text);
  assert.deepEqual(second!.json(), [{ out: { dense_1: [0.2] } }]);
  assert.equal((await blocker).status, 504);
  assert.equal(batchCalls, 1); // the members went as one call
});

