import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_STREAM, infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { listenHttp } from '../helpers/raw-http.ts';
import { watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// An answer the gateway must read whole (here: JSON from Wallaroo, Arrow asked for, so it is converted) is charged
// to server.bufferBudget chunk by chunk as it arrives, not after it is all in: the read stops, Wallaroo's
// connection is closed, as soon as the answer passes the budget. Before, a chunked answer (no Content-Length) was
// read to its end whatever its size (4 callers of a 250 MB answer took 1.5 GiB under a 64 MiB budget) and then
// refused with a 503 naming the few bytes others held.

const MIB = 1024 * 1024;
const BUDGET = 8 * MIB;
/** What the stand-in would send in all: far more than the budget. */
const ANSWER_BYTES = 128 * MIB;
/** Loopback socket buffers on both sides, and what undici and the stand-in queue: bytes written though never read. */
const IN_FLIGHT_SLACK = 24 * MIB;

/**
 * A stand-in Wallaroo answering every call with a chunked JSON answer of ANSWER_BYTES (no Content-Length), written
 * as fast as its socket takes it; it counts what it managed to write and notes when the gateway closed the connection.
 */
async function floodingWallaroo(t: TestContext, options: { firstCallWaitsForSecond?: boolean } = {}) {
  const state = { calls: 0, written: 0, closed: false };
  const record = Buffer.from(`{"out":{"dense_1":[${'0.123456,'.repeat(7_000)}0.5]}},`);
  let secondCall: () => void = () => undefined;
  const secondCalled = new Promise<void>((resolve) => (secondCall = resolve));
  const port = await listenHttp(t, (request, response) => {
    const call = ++state.calls;
    request.resume();
    if (call === 2) secondCall();
    if (call === 1 && options.firstCallWaitsForSecond) {
      // Keeps the pipeline busy so the next request waits in a batch; then a small answer of its own.
      void secondCalled.then(() => response.writeHead(200, { 'content-type': 'application/json; format=pandas-records' }).end('[{"out":{"dense_1":[1]}}]'));
      return;
    }
    request.once('end', () => {
      response.writeHead(200, { 'content-type': 'application/json; format=pandas-records' });
      response.once('close', () => (state.closed = true));
      response.write('[');
      const pump = () => {
        while (!response.destroyed) {
          if (state.written + record.length >= ANSWER_BYTES) {
            response.end('{"out":{"dense_1":[1]}}]');
            return;
          }
          state.written += record.length;
          if (!response.write(record)) {
            response.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
  return { port, state };
}

/** Starts an upload declaring `bytes` that sends only its first byte: the gateway reserves the declared size meanwhile. */
function holdBudget(t: TestContext, gatewayUrl: string, bytes: number): Socket {
  const { hostname, port } = new URL(gatewayUrl);
  const socket = connect(Number(port), hostname, () => {
    socket.write(`POST /pipelines/flood/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n[`);
  });
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  return socket;
}

test('an answer read whole that could never fit server.bufferBudget is a 502 as soon as it passes the budget, Wallaroo\'s connection closed', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await floodingWallaroo(t);
  const config = standInConfig(simulator, wallaroo.port, { name: 'flood', upstreamFormat: 'json', timeoutMs: 60_000 });
  const gw = await startGateway(t, { ...config, server: { ...(config.server as object), bufferBudget: BUDGET, bodyTimeoutMs: 60_000 } });

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'flood', '[{"a":1}]', { accept: ARROW_STREAM }));
  const answer = watched.value;
  assert.equal(answer.status, 502, answer.text);
  assert.equal(answer.json<{ code: string }>().code, 'GW_UPSTREAM_BAD_RESPONSE');
  assert.match(answer.json<{ message: string }>().message, /^pipeline flood: Wallaroo's answer \(at least \d+ bytes\) does not fit server\.bufferBudget \(8388608 bytes\)/);
  assert.equal(answer.headers['retry-after'], undefined, 'not retryable: the answer itself is the problem');

  await waitFor(() => wallaroo.state.closed, "the gateway to close Wallaroo's connection");
  assert.equal(wallaroo.state.calls, 1);
  t.diagnostic(`the stand-in wrote ${wallaroo.state.written} bytes of ${ANSWER_BYTES}`);
  assert.ok(wallaroo.state.written <= BUDGET + IN_FLIGHT_SLACK, `the stand-in wrote ${wallaroo.state.written} bytes before the gateway stopped reading (budget ${BUDGET})`);
  t.diagnostic(`peak RSS grew ${(watched.rssGrowth / MIB).toFixed(0)} MiB`);
  assert.ok(watched.rssGrowth <= BUDGET + IN_FLIGHT_SLACK + 32 * MIB, `memory grew ${(watched.rssGrowth / MIB).toFixed(0)} MiB under an ${BUDGET / MIB} MiB budget`);
  await waitFor(async () => (await pipelineStatus(gw.url, 'flood')).inflight === 0, 'the slot to be freed');
});

test('an answer read whole that does not fit the budget now (others hold it) is 503 GW_OVERLOADED + Retry-After, its read stopped there', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await floodingWallaroo(t);
  const config = standInConfig(simulator, wallaroo.port, { name: 'flood', upstreamFormat: 'json', timeoutMs: 60_000 });
  const gw = await startGateway(t, { ...config, server: { ...(config.server as object), bufferBudget: BUDGET, bodyTimeoutMs: 60_000 } });
  // Another request holds 6 MiB of the 8: an answer of more than about 2 MiB does not fit now, though it could later.
  const upload = holdBudget(t, gw.url, 6 * MIB);
  await waitFor(async () => (await pipelineStatus(gw.url, 'flood')).inflight === 1, 'the upload to hold its 6 MiB');

  const answer = await infer(gw.url, 'flood', '[{"a":1}]', { accept: ARROW_STREAM });
  assert.equal(answer.status, 503, answer.text);
  assert.equal(answer.json<{ code: string }>().code, 'GW_OVERLOADED');
  assert.match(answer.json<{ message: string }>().message, /server\.bufferBudget 8388608/);
  assert.equal(answer.headers['retry-after'], '1');

  await waitFor(() => wallaroo.state.closed, "the gateway to close Wallaroo's connection");
  assert.equal(wallaroo.state.calls, 1);
  t.diagnostic(`the stand-in wrote ${wallaroo.state.written} bytes of ${ANSWER_BYTES}`);
  assert.ok(wallaroo.state.written <= BUDGET + IN_FLIGHT_SLACK, `the stand-in wrote ${wallaroo.state.written} bytes before the gateway stopped reading (budget ${BUDGET})`);
  upload.destroy(); // the gateway closes only once its requests have ended
});

test('a batch\'s answer, read whole to split it, is charged as it arrives too: 502 once it passes the budget, its read stopped there', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await floodingWallaroo(t, { firstCallWaitsForSecond: true });
  const config = standInConfig(simulator, wallaroo.port, { name: 'flood', upstreamFormat: 'json', timeoutMs: 60_000, batching: { maxRows: 100, maxDelayMs: 10, maxBytes: '1MiB' } });
  const gw = await startGateway(t, { ...config, server: { ...(config.server as object), bufferBudget: BUDGET, bodyTimeoutMs: 60_000 } });

  // The first request goes alone (nothing to wait for) and keeps Wallaroo busy; the second then rides in a batch.
  const alone = infer(gw.url, 'flood', '[{"a":1}]');
  await waitFor(() => wallaroo.state.calls === 1, 'the first call to reach Wallaroo');
  const batched = await infer(gw.url, 'flood', '[{"a":2}]');
  assert.equal(batched.status, 502, batched.text);
  assert.equal(batched.json<{ code: string }>().code, 'GW_UPSTREAM_BAD_RESPONSE');
  assert.match(batched.json<{ message: string }>().message, /^pipeline flood: Wallaroo's answer \(at least \d+ bytes\) does not fit server\.bufferBudget \(8388608 bytes\)/);
  assert.equal((await alone).status, 200);

  await waitFor(() => wallaroo.state.closed, "the gateway to close Wallaroo's connection");
  assert.equal(wallaroo.state.calls, 2);
  t.diagnostic(`the stand-in wrote ${wallaroo.state.written} bytes of ${ANSWER_BYTES}`);
  assert.ok(wallaroo.state.written <= BUDGET + IN_FLIGHT_SLACK, `the stand-in wrote ${wallaroo.state.written} bytes before the gateway stopped reading (budget ${BUDGET})`);
});
