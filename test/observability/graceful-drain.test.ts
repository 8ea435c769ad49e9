import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { ENTRY, spawnServer } from '../helpers/process.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

test('draining: readiness turns 503 at once, the request in flight completes, then the listener closes', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  simulator.control.latencyMs = 400;
  const before = simulator.control.counts.inference;
  const inFlight = infer(gw.url, 'ccfraud', ccfraudBody());
  await waitFor(() => simulator.control.counts.inference > before, 'the request to reach Wallaroo');
  gw.gateway.startDraining();
  const ready = await call(`${gw.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.json<{ code: string }>().code, 'GW_DRAINING');
  const closing = gw.close();
  assert.equal((await inFlight).status, 200);
  await closing;
  await assert.rejects(call(`${gw.url}/healthz`), /ECONNREFUSED/);
});

test('SIGTERM, as Kubernetes sends it: not ready at once, still serving new and in-flight requests for drainDelayMs, then the listener closes and the process exits 0', async (t) => {
  const simulator = await useSimulator(t);
  simulator.control.latencyMs = 300;
  const dir = useTempDir(t, 'gw-drain');
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, [
    'server: { host: 127.0.0.1, port: 0, drainDelayMs: 2000, maxEventLoopDelayMs: 0 }',
    `wallaroo: { url: "${simulator.url}", auth: { clientSecret: "${DEFAULT_CLIENT_SECRET}" } }`,
    'pipelines: [{ name: ccfraud, workspace: demo }]',
  ].join('\n'));
  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY, 'serve', '--config', file], {}, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
  const url = server.match[1]!;
  // Ready once the first token is held (the listener opens before that).
  await waitFor(async () => (await call(`${url}/readyz`)).status === 200, 'the gateway to be ready');
  const before = simulator.control.counts.inference;
  const inFlight = infer(url, 'ccfraud', ccfraudBody());
  await waitFor(() => simulator.control.counts.inference > before, 'the request to reach Wallaroo');
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  let exitedAt = 0;
  void exited.then(() => (exitedAt = Date.now()));
  server.child.kill('SIGTERM');
  await waitFor(() => server.stdout().includes('draining: not ready'), 'the drain to begin');

  // Endpoint removal takes a while to reach every proxy: meanwhile the gateway says it is not ready, but serves.
  const ready = await call(`${url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.json<{ code: string }>().code, 'GW_DRAINING');
  const lateArrival = await infer(url, 'ccfraud', ccfraudBody());
  assert.equal(lateArrival.status, 200, 'a request arriving in the endpoint-removal window is served');
  assert.equal(exitedAt, 0, 'still running within drainDelayMs');
  assert.equal((await inFlight).status, 200);

  assert.equal(await exited, 0);
  assert.match(server.stdout(), /closing: finishing in-flight requests/);
  await assert.rejects(call(`${url}/healthz`), /ECONNREFUSED/);
});
