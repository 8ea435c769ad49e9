import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// A caller that stops reading its (large, streamed) answer is cut after server.bodyTimeoutMs without progress. It
// did not leave: the cut is the gateway's, for the caller's slowness, so its line says 408 GW_CALLER_TOO_SLOW (not
// 499 GW_CALLER_GONE), Wallaroo is not blamed, and Wallaroo's connection is closed with the cut, not a timeout later.

const BODY_TIMEOUT_MS = 2_000;

test('a caller that stops reading is cut after bodyTimeoutMs, logged as 408 GW_CALLER_TOO_SLOW, and Wallaroo’s answer is closed with the cut', async (t) => {
  const simulator = await useSimulator(t);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let upstreamClosedAt = 0;
  const wallaroo = createServer((request, response) => {
    request.resume();
    response.on("close", () => (upstreamClosedAt = Date.now()));
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * 1024 * 1024) });
    const pump = () => {
      while (!response.destroyed && response.write(chunk));
      if (!response.destroyed) response.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => wallaroo.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    wallaroo.closeAllConnections();
    return new Promise((resolve) => wallaroo.close(resolve));
  });
  const gw = await startGateway(t, {
    ...standInConfig(simulator, (wallaroo.address() as AddressInfo).port, { name: 'big', timeoutMs: 60_000, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } }),
    server: { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0, bodyTimeoutMs: BODY_TIMEOUT_MS },
  });

  // A caller that sends its request, reads nothing, and keeps its connection open.
  const socket = connect(Number(new URL(gw.url).port), '127.0.0.1', () => {
    socket.write('POST /pipelines/big/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]');
  });
  socket.pause();
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  // The caller reads nothing, so it would not see the close either: the request line marks the cut.
  const line = await waitFor(() => gw.logs.find((l) => l.msg === 'request' && l.route === 'infer'), 'the request line', BODY_TIMEOUT_MS * 10);
  const cutAt = Date.parse(line.time as string);
  assert.equal(line.status, 408);
  assert.equal(line.code, 'GW_CALLER_TOO_SLOW');
  // Cut one bodyTimeoutMs after the caller stopped taking bytes (it never took more than its buffers), not two.
  const durationMs = line.durationMs as number;
  assert.ok(durationMs >= BODY_TIMEOUT_MS && durationMs < BODY_TIMEOUT_MS * 1.75, `cut after ${durationMs} ms`);
  await waitFor(() => upstreamClosedAt !== 0, 'Wallaroo’s answer to be closed', BODY_TIMEOUT_MS * 4);
  assert.ok(upstreamClosedAt - cutAt < BODY_TIMEOUT_MS / 2, `Wallaroo's answer closed ${upstreamClosedAt - cutAt} ms after the caller was cut`);
  // One failure held against Wallaroo would open this breaker.
  assert.equal((await pipelineStatus(gw.url, 'big')).breaker, 'closed', 'not held against Wallaroo');
});
