import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('F7: a caller that stops reading a large answer is cut off after bodyTimeoutMs without progress: its slot and Wallaroo connection are freed', async (t) => {
  const simulator = await useSimulator(t);
  let upstreamClosed = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  // A Wallaroo whose first answer is 200 MB, written as fast as the gateway takes it (later ones are small).
  let answers = 0;
  const wallaroo = createServer((request, response) => {
    request.resume();
    if (answers++ > 0) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
      return;
    }
    response.on('close', () => upstreamClosed++);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * 1024 * 1024) });
    const pump = () => {
      while (response.write(chunk)) {
        if (response.destroyed) return;
      }
      response.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => wallaroo.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    wallaroo.closeAllConnections();
    return new Promise((resolve) => wallaroo.close(resolve));
  });
  const port = (wallaroo.address() as AddressInfo).port;
  const gw = await startGateway(t, {
    ...standInConfig(simulator, port, { name: 'big', maxConcurrency: 1, maxQueue: 0 }),
    server: { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0, bodyTimeoutMs: 1_000 },
  });

  // A caller that sends its request, reads nothing, and keeps its connection open.
  const gatewayPort = Number(new URL(gw.url).port);
  const socket = connect(gatewayPort, '127.0.0.1', () => {
    socket.write('POST /pipelines/big/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]');
  });
  socket.pause();
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  await waitFor(async () => (await pipelineStatus(gw.url, 'big')).inflight === 1, 'the answer to start');

  await waitFor(() => upstreamClosed === 1, 'the gateway to give up on the stalled caller and close Wallaroo’s answer', 20_000);
  await waitFor(async () => (await pipelineStatus(gw.url, 'big')).inflight === 0, 'the request to end');
  assert.equal((await infer(gw.url, 'big', '[]')).status, 200, 'the only slot is free again');
});
