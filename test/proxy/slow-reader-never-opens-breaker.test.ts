import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// The whole answer body has a bound (timeoutMs after Wallaroo's headers), but who set the pace decides whose
// failure a cut answer is. Wallaroo here sends its whole 8 MiB answer at once; the caller does not read it, so the
// relay waits for the caller: the cut is the caller's GW_CALLER_TOO_SLOW, and the breaker stays closed for every
// other caller. A Wallaroo whose chunked answer breaks mid-relay is logged as Wallaroo's failure, not as a caller
// that left.
const TIMEOUT_MS = 600;
const ANSWER_BYTES = 8 * 1024 * 1024;
/** For the caller that reads: still streamed (over the 64 KiB read whole), but quick to relay within TIMEOUT_MS on a
 * loaded machine (8 MiB through a shared test process sometimes took longer, and was cut). */
const READER_ANSWER_BYTES = 256 * 1024;

async function standInWallaroo(t: { after(fn: () => unknown): void }) {
  const server = createServer((request, response) => {
    request.resume();
    if (request.url?.startsWith('/infer/broken')) {
      // A valid 70 KiB chunk, then a chunk header that is not hexadecimal.
      response.socket?.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${(70 * 1024).toString(16)}\r\n${' '.repeat(70 * 1024)}\r\nzz\r\nbroken\r\n`);
      return;
    }
    const bytes = request.url?.includes('reader=1') ? READER_ANSWER_BYTES : ANSWER_BYTES;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes) });
    response.end(Buffer.alloc(bytes, 0x20));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

test('a caller that does not read its large answer is cut at timeoutMs as GW_CALLER_TOO_SLOW; the breaker stays closed', async (t) => {
  const simulator = await useSimulator(t);
  const port = await standInWallaroo(t);
  const gw = await startGateway(t, standInConfig(simulator, port, {
    name: 'large', timeoutMs: TIMEOUT_MS, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
  }));

  // A caller that sends its request and then never reads: the relay fills the socket buffers and waits for it.
  const gateway = new URL(gw.url);
  const socket = connect(Number(gateway.port), gateway.hostname);
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  socket.pause();
  socket.write('POST /pipelines/large/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]');

  const line = await waitFor(() => gw.logs.find((entry) => entry.msg === 'request' && entry.pipeline === 'large'), 'the request log line');
  assert.equal(line.code, 'GW_CALLER_TOO_SLOW');
  assert.equal(line.status, 408);
  socket.destroy();
  const status = (await call(`${gw.url}/pipelines`)).json<{ pipelines: Array<{ name: string; breaker: string }> }>();
  assert.equal(status.pipelines.find((p) => p.name === 'large')?.breaker, 'closed', "the caller's pace is not held against Wallaroo");
  // A caller that reads gets the whole answer.
  const answer = await infer(gw.url, 'large', '[]', {}, '?reader=1');
  assert.equal(answer.status, 200);
  assert.equal(answer.text.length, READER_ANSWER_BYTES);
});

test("Wallaroo's chunked answer breaking mid-relay is logged and counted as Wallaroo's failure (502), not as the caller leaving", async (t) => {
  const simulator = await useSimulator(t);
  const port = await standInWallaroo(t);
  const gw = await startGateway(t, standInConfig(simulator, port, { name: 'broken', url: `http://127.0.0.1:${port}/infer/broken`, timeoutMs: 10_000 }));

  const answer = await fetch(`${gw.url}/pipelines/broken/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
  assert.equal(answer.status, 200, 'the relay had started');
  await assert.rejects(answer.arrayBuffer(), 'the caller sees the answer cut, never complete-looking');

  const line = await waitFor(() => gw.logs.find((entry) => entry.msg === 'request' && entry.pipeline === 'broken'), 'the request log line');
  assert.equal(line.code, 'GW_UPSTREAM_BAD_RESPONSE');
  assert.equal(line.status, 502);
  const metrics = (await call(`${gw.url}/metrics`)).text;
  assert.match(metrics, /wallaroo_gateway_requests_total\{pipeline="broken",route="infer",status="502"\} 1/);
});
