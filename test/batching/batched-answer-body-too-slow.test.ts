import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tutorialRows } from '../helpers/batching.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer, JSON_RECORDS } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { listenHttp } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

const TIMEOUT_MS = 2_000;

// Wallaroo sends a batch's answer headers at once, then never finishes the body: once the answer has started the
// members' deadlines are met, so the body's own bound (the pipeline timeout after the headers) ends the call, as it
// would a lone request's: each member gets 504 GW_UPSTREAM_TIMEOUT, and the breaker counts Wallaroo's failure.
test('a batched answer whose body does not finish in time is 504 for each member and a failure for the breaker', { timeout: 60_000 }, async (t) => {
  const simulator = await useSimulator(t);
  let blockerArrived: () => void = () => undefined;
  const blockerArrival = new Promise<void>((resolve) => {
    blockerArrived = resolve;
  });
  let calls = 0;
  const port = await listenHttp(t, (request, response) => {
    request.resume();
    if (request.headers['x-request-id'] === 'blocker') {
      blockerArrived(); // never answered: it keeps a call in flight, so the members batch
      return;
    }
    calls++;
    response.writeHead(200, { 'content-type': JSON_RECORDS, 'content-length': '1000' });
    response.write('[');
  });
  const gateway = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: `http://127.0.0.1:${port}`, mlops: null },
    pipelines: [{
      name: 'batched', url: `http://127.0.0.1:${port}/batched`, maxRetries: 0, timeoutMs: TIMEOUT_MS,
      circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 }, batching: { maxRows: 2, maxDelayMs: 10_000 },
    }],
  }));
  const blocker = infer(gateway.url, 'batched', JSON.stringify(tutorialRows(1, 900)), { 'x-request-id': 'blocker' });
  await blockerArrival;
  const members = tutorialRows(2).map((row) => infer(gateway.url, 'batched', JSON.stringify([row])));
  assert.equal((await blocker).status, 504); // one failure, under the threshold
  for (const answer of await Promise.all(members)) {
    assert.equal(answer.status, 504);
    assert.deepEqual(answer.json(), {
      statusCode: 504, code: 'GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout',
      message: `pipeline batched: Wallaroo's answer was not complete within ${TIMEOUT_MS} ms of its headers`,
    });
  }
  assert.equal(calls, 1); // the members went as one call
  await waitFor(async () => (await pipelineStatus(gateway.url, 'batched')).breaker === 'open', 'the breaker to open', 10_000);
});
