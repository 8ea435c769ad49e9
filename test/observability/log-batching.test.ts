import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const SCRIPT = fileURLToPath(new URL('../fixtures/scripts/log-lines.ts', import.meta.url));

function run(t: test.TestContext, mode: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, mode], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, stdout: () => stdout, exited };
}

test('a quiet gateway: a lone log line appears within the flush interval, without waiting for a batch', async (t) => {
  const { child, stdout, exited } = run(t, 'quiet');
  await waitFor(() => stdout().includes('quiet-line'), 'the lone log line', 10_000, 50);
  assert.equal(child.exitCode, null, 'the line arrived while the process was still running');
  const line = JSON.parse(stdout().trim().split('\n')[0]!) as Record<string, unknown>;
  assert.equal(line.marker, 'quiet-line');
  assert.equal(line.msg, 'request');
  child.stdin.end('stop\n');
  assert.equal(await exited, 0);
});

test('exit right after a burst: every batched line is written before the process ends', async (t) => {
  const { stdout, exited } = run(t, 'burst');
  assert.equal(await exited, 0);
  const lines = stdout().trim().split('\n').map((text) => JSON.parse(text) as { marker: string; i: number });
  assert.equal(lines.length, 1_000);
  assert.deepEqual(lines.map((line) => line.i), Array.from({ length: 1_000 }, (_, i) => i));
});
