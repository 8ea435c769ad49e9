import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ENTRY = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Runs the CLI to completion (bounded), returning its exit code and output; `stdin` is piped in when given. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 90_000, // a tsx start on a loaded 2-core machine took over 30 s
  stdin?: Uint8Array,
): Promise<{ code: number | null; stdout: string; stderr: string; stdoutBytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    if (stdin) child.stdin!.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr, stdoutBytes });
    });
  });
}

/** Starts a long-running CLI process; resolves once `ready` matches its stdout. Killed when the test ends. */
export function spawnServer(
  t: TestContext,
  command: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 90_000, // a tsx start on a loaded 2-core machine took over 30 s
): Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms:\n${stdout}\n${stderr}`)), timeoutMs);
    t.after(() => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, stdout: () => stdout, stderr: () => stderr, match });
      }
    });
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready:\n${stdout}\n${stderr}`));
    });
  });
}
