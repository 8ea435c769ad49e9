import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { ENTRY, runCli, spawnServer } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

test('--simulate-version runs the demo against that Wallaroo release; an unknown release is a usage error', async (t) => {
  // 2023.4: Keycloak on a host of its own, so the demo must be wired with the token URL and an MLOps user.
  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY, 'demo', '--simulate-version', '2023.4'], { PORT: '0' }, /gateway on (http:\/\/127\.0\.0\.1:\d+), embedded Wallaroo 2023\.4 simulator/);
  // The curl lines are printed once the gateway listens; the first Wallaroo token may still be on its way.
  assert.equal(await readyStatus(server.match[1]!, 300, 100), 200);
  // The demo sheds load (503 GW_OVERLOADED) while its event loop is starved, as a just-started process on a busy
  // machine can be: the first answer that is not shed is the one checked.
  const answer = await waitFor(async () => {
    const attempt = await infer(server.match[1]!, 'ccfraud', ccfraudBody());
    return attempt.status === 503 && attempt.json<{ code: string }>().code === 'GW_OVERLOADED' ? null : attempt;
  }, 'an answer that is not shed', 30_000, 200);
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(Object.keys(answer.json<Array<Record<string, unknown>>>()[0]!), ['time', 'in', 'out', 'check_failures', 'metadata']);
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  assert.equal(await exited, 0);

  const refused = await runCli(['demo', '--simulate-version', '1999']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^wallaroo-gateway: --simulate-version 1999: not a modelled Wallaroo version \(2023\.4, 2024\.2, 2025\); see wallaroo-gateway --help\n$/);
});
