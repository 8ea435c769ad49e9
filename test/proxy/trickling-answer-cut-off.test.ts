import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// Wallaroo answers its headers at once, then one byte every 20 ms, forever: never idle long enough for the gap
// between chunks to end it. The whole answer body must be complete within the pipeline's timeoutMs of its headers.
const TIMEOUT_MS = 600;
const DRIP_EVERY_MS = 20;

/** A stand-in Wallaroo whose answers trickle; `/big` paths send 70 KiB first (streamed on, not read whole). */
async function tricklingWallaroo(t: { after(fn: () => unknown): void }) {
  const closed: string[] = [];
  const server = createServer((request, response) => {
    request.resume();
    const big = request.url?.startsWith('/infer/big') ?? false;
    response.once('close', () => closed.push(request.url ?? ''));
    // Declared small answers are read whole by the gateway; the big one streams (chunked) to the caller.
    response.writeHead(200, big ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'content-length': '1000' });
    if (big) response.write(Buffer.alloc(70 * 1024, 0x20));
    const drip = setInterval(() => response.write(' '), DRIP_EVERY_MS);
    response.once('close', () => clearInterval(drip));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, closed };
}

const timeoutBody = {
  statusCode: 504, code: 'GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout',
  message: `pipeline trickle: Wallaroo's answer was not complete within ${TIMEOUT_MS} ms of its headers`,
};

test('an answer that trickles forever is cut at timeoutMs after its headers: 504 before anything was sent, a truncated relay after, held against Wallaroo', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await tricklingWallaroo(t);
  const gw = await startGateway(t, standInConfig(simulator, wallaroo.port, {
    name: 'trickle', timeoutMs: TIMEOUT_MS, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
  }));

  // Read whole (declared small): nothing was sent yet, so the caller gets the coded 504.
  const whole = await infer(gw.url, 'trickle', '[]');
  assert.equal(whole.status, 504);
  assert.deepEqual(whole.json(), timeoutBody);
  await waitFor(() => wallaroo.closed.includes('/infer'), "Wallaroo's connection to be closed");
  // ...and it counts against Wallaroo: with a threshold of 1 the breaker is open.
  const refused = await infer(gw.url, 'trickle', '[]');
  assert.equal(refused.json<{ code: string }>().code, 'GW_CIRCUIT_OPEN');
});

test('a relayed answer that trickles forever is cut abruptly (the caller sees it truncated) and logged with GW_UPSTREAM_TIMEOUT', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await tricklingWallaroo(t);
  const gw = await startGateway(t, standInConfig(simulator, wallaroo.port, {
    name: 'trickle', url: `http://127.0.0.1:${wallaroo.port}/infer/big`, timeoutMs: TIMEOUT_MS, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
  }));

  const { port } = new URL(gw.url);
  const seen = await new Promise<{ status: number; bytes: number; complete: boolean }>((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/pipelines/trickle/infer', headers: { 'content-type': 'application/json' } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('error', () => undefined); // 'aborted': what a cut answer looks like
      response.once('close', () => resolve({ status: response.statusCode ?? 0, bytes, complete: response.complete }));
    });
    outgoing.once('error', reject);
    outgoing.end('[]');
  });
  assert.equal(seen.status, 200, 'the relay had started');
  assert.ok(seen.bytes >= 70 * 1024, `the caller got what was relayed (${seen.bytes} bytes)`);
  assert.equal(seen.complete, false, 'the answer is visibly truncated, never complete-looking');

  const line = await waitFor(() => gw.logs.find((entry) => entry.msg === 'request' && entry.pipeline === 'trickle'), 'the request log line');
  assert.equal(line.status, 504);
  assert.equal(line.code, 'GW_UPSTREAM_TIMEOUT');
  const metrics = (await call(`${gw.url}/metrics`)).text;
  assert.match(metrics, /wallaroo_gateway_requests_total\{pipeline="trickle",route="infer",status="504"\} 1/);
  await waitFor(() => wallaroo.closed.includes('/infer/big'), "Wallaroo's connection to be closed");
  assert.equal((await infer(gw.url, 'trickle', '[]')).json<{ code: string }>().code, 'GW_CIRCUIT_OPEN', 'judged as a Wallaroo failure');
});

test('an OpenAI answer (stream false) that trickles forever is cut at timeoutMs after its headers', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await tricklingWallaroo(t);
  const gw = await startGateway(t, standInConfig(simulator, wallaroo.port, { name: 'trickle', timeoutMs: TIMEOUT_MS }));
  const answer = await call(`${gw.url}/pipelines/trickle/openai/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [] }),
  });
  assert.equal(answer.status, 504);
  assert.deepEqual(answer.json(), timeoutBody);
});
