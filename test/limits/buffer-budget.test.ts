import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

/** Starts an upload declaring `bytes` and sends only its first byte: the gateway reserves the declared size. */
function startUpload(t: import('node:test').TestContext, gatewayUrl: string, bytes: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  const { hostname, port } = new URL(gatewayUrl);
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /pipelines/summary/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n[`);
      resolve({ socket, answer: new Promise((done) => socket.on('close', () => done(text))) });
    });
    socket.on('data', (data) => (text += data.toString('latin1')));
    socket.on('error', () => undefined);
    t.after(() => socket.destroy());
  });
}

test('F5: a process-wide budget of buffered bytes, taken before a body is read: beyond it 503 GW_OVERLOADED + Retry-After, and it is given back', async (t) => {
  const simulator = await useSimulator(t);
  // 4 MiB for the whole process; each upload below declares 1.5 MiB (kept whole for replay, so reserved).
  const gw = await startGateway(t, simulatorConfig(simulator, { server: { bufferBudget: '4MiB', bodyTimeoutMs: 60_000 } }));
  const declared = 1.5 * 1024 * 1024;
  const holding = [await startUpload(t, gw.url, declared), await startUpload(t, gw.url, declared)];
  await waitFor(async () => (await pipelineStatus(gw.url, 'summary')).inflight === 2, 'two uploads holding 3 MiB');

  const refused = await infer(gw.url, 'summary', Buffer.alloc(declared, 0x20));
  assert.equal(refused.status, 503);
  assert.equal(refused.json<{ code: string }>().code, 'GW_OVERLOADED');
  assert.match(refused.json<{ message: string }>().message, /server\.bufferBudget 4194304/);
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(simulator.control.counts.inference, 0);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200, 'a small body still fits');

  for (const upload of holding) upload.socket.destroy();
  await waitFor(async () => (await pipelineStatus(gw.url, 'summary')).inflight === 0, 'the uploads to end');
  const body = `[${Array.from({ length: 40_000 }, () => '{"a":1}').join(',')}]`.padEnd(declared, ' ');
  assert.equal((await infer(gw.url, 'summary', body, {}, '?dataset[]=out')).status, 200, 'the budget was given back');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
});
