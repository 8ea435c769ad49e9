import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { ENTRY, runCli, spawnServer } from '../helpers/process.ts';

test('--simulate-version runs the demo against that Wallaroo release; an unknown release is a usage error', async (t) => {
  // 2023.4: Keycloak on a host of its own, so the demo must be wired with the token URL and an MLOps user.
  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY, 'demo', '--simulate-version', '2023.4'], { PORT: '0' }, /gateway on (http:\/\/127\.0\.0\.1:\d+), embedded Wallaroo 2023\.4 simulator/);
  // The curl lines are printed once the gateway listens; the first Wallaroo token may still be on its way.
  assert.equal(await readyStatus(server.match[1]!, 300, 100), 200);
  const answer = await infer(server.match[1]!, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(Object.keys(answer.json<Array<Record<string, unknown>>>()[0]!), ['time', 'in', 'out', 'check_failures', 'metadata']);
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  assert.equal(await exited, 0);

  const refused = await runCli(['demo', '--simulate-version', '1999']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^--simulate-version 1999: not a modelled Wallaroo version \(2023\.4, 2024\.2, 2025\)\n/);
});
