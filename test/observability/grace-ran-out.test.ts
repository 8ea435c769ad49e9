import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { simulatorConfig } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { ENTRY, spawnServer } from '../helpers/process.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

// SIGTERM with requests Wallaroo never finishes: past drainDelayMs + shutdownGraceMs the gateway ends them as
// documented — a coded 503 GW_SHUTDOWN with Connection: close when nothing was sent yet, a cut when the answer had
// started — each with its request line, one warning counting them, and exit 0 (the designed shutdown), where it
// used to be killed by close-with-grace's timer: exit 1, a reset for the caller, no line.

const DRAIN_MS = 500;
const GRACE_MS = 1_500;

test('the shutdown grace runs out: requests in flight get 503 GW_SHUTDOWN (or are cut), each is logged, and the process exits 0', async (t) => {
  const simulator = await useSimulator(t);
  // A Wallaroo that never answers /silent, and starts a large answer on /stalls but never finishes it.
  const held = new Set<ServerResponse>();
  const arrived = new Set<string>();
  const wallaroo = createServer((request, response) => {
    request.resume();
    held.add(response);
    arrived.add(request.url ?? '');
    if (request.url === '/stalls') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 * 1024) });
      response.write(Buffer.alloc(100 * 1024, 0x20));
    }
  });
  await new Promise<void>((resolve) => wallaroo.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    wallaroo.closeAllConnections();
    return new Promise((resolve) => wallaroo.close(resolve));
  });
  const standIn = `http://127.0.0.1:${(wallaroo.address() as AddressInfo).port}`;
  const config = simulatorConfig(simulator, {
    server: { drainDelayMs: DRAIN_MS, shutdownGraceMs: GRACE_MS },
    wallaroo: { url: standIn, mlops: null },
    pipelines: [
      { name: 'silent', url: `${standIn}/silent`, timeoutMs: 60_000 },
      { name: 'stalls', url: `${standIn}/stalls`, timeoutMs: 60_000 },
    ],
    logging: { level: 'info' },
  });
  const file = join(useTempDir(t, 'gw-grace'), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY, 'serve', '--config', file], {}, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
  const url = server.match[1]!;
  await waitFor(async () => (await call(`${url}/readyz`)).status === 200, 'the gateway to be ready');

  const post = (pipeline: string) =>
    rawExchange(url, [`POST /pipelines/${pipeline}/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]`], { waitMs: 30_000 });
  const silent = post('silent');
  const stalls = post('stalls');
  await waitFor(() => arrived.has('/silent') && arrived.has('/stalls'), 'both requests to reach Wallaroo');
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  const signalledAt = Date.now();
  server.child.kill('SIGTERM');

  // Nothing sent yet: the coded 503, and the connection closes.
  const answered = await silent;
  assert.equal(statusOf(answered.text), 503, answered.text);
  assert.match(answered.text, /\r\nconnection: close\r\n/i);
  assert.equal(jsonBodyOf(answered.text).code, 'GW_SHUTDOWN');
  assert.equal(answered.closed, true);
  // The answer had started: cut, short of its Content-Length (never a complete-looking answer).
  const cut = await stalls;
  assert.equal(statusOf(cut.text), 200);
  assert.equal(cut.closed, true);
  assert.ok(Buffer.byteLength(cut.text, 'latin1') < 1024 * 1024, 'the answer was cut');

  assert.equal(await exited, 0);
  const elapsed = Date.now() - signalledAt;
  assert.ok(elapsed >= DRAIN_MS + GRACE_MS, `exited ${elapsed} ms after SIGTERM, before the drain and the grace`);
  const lines = server.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  const requestLine = (pipeline: string) => lines.find((l) => l.msg === 'request' && l.pipeline === pipeline);
  assert.deepEqual({ status: requestLine('silent')?.status, code: requestLine('silent')?.code }, { status: 503, code: 'GW_SHUTDOWN' });
  assert.deepEqual({ status: requestLine('stalls')?.status, code: requestLine('stalls')?.code }, { status: 503, code: 'GW_SHUTDOWN' });
  const warning = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown grace ran out'));
  assert.equal(warning?.ended, 2);
  assert.equal(warning?.level, 'warn');
  assert.doesNotMatch(server.stdout(), /killed by timeout/);
});
