import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { simulatorConfig } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { ENTRY, spawnServer } from '../helpers/process.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

// Hostile review: one TCP connection that never sends a request (a TCP health check, a proxy's pre-opened
// connection) made every shutdown end in exit 1: closing waited for it, and Node stops checking headersTimeout once
// the listener is closed. Past the grace, connections without a request are cut and the process exits 0.

const GRACE_MS = 1_000;

test('a connection that never sends a request does not hold shutdown: cut after the grace, exit 0', async (t) => {
  const simulator = await useSimulator(t);
  const config = simulatorConfig(simulator, { server: { drainDelayMs: 0, shutdownGraceMs: GRACE_MS, headersTimeoutMs: 60_000 }, logging: { level: 'info' } });
  const file = join(useTempDir(t, 'gw-silent'), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY, 'serve', '--config', file], {}, /Server listening at (http:\/\/127\.0\.0\.1:(\d+))/);
  const url = server.match[1]!;
  await waitFor(async () => (await call(`${url}/readyz`)).status === 200, 'the gateway to be ready');

  const silent = connect(Number(server.match[2]), '127.0.0.1');
  silent.on('error', () => undefined);
  t.after(() => silent.destroy());
  await new Promise<void>((resolve) => silent.once('connect', resolve));
  const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
  // The gateway has accepted it: a request on another connection is answered after it.
  assert.equal((await call(`${url}/healthz`)).status, 200);

  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  assert.equal(await exited, 0, server.stdout());
  await silentClosed;
  const lines = server.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(lines.some((l) => l.msg === 'shutdown: 1 connection(s) still open cut' && l.connections === 1), server.stdout());
  assert.ok(!lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown did not finish')));
});
