// The end-to-end folders in one process, one test file after another: what `npm test` (scripts/test-all.ts) and
// CI's runs against each older Wallaroo release the simulator models (WALLAROO_SIM_VERSION) use. Which files, and
// why they share a process, is scripts/test-files.ts; `npm run test:e2e` still gives each file its own process.
// Files that measure this process's memory (peak RSS is a whole-process figure, which earlier files would
// distort) run each in their own process, beside the shared one.
// Usage: [E2E_SHARD=k/n] node --import tsx scripts/e2e-one-process.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { e2eFiles, ROOT } from './test-files.ts';

/** `--test-timeout` does not reach tests outside `node --test`: the run as a whole is bounded instead. */
const RUN_LIMIT_MS = 15 * 60_000;
setTimeout(() => {
  console.error(`# the end-to-end run did not finish within ${RUN_LIMIT_MS / 60_000} minutes: a test hangs`);
  process.exit(1);
}, RUN_LIMIT_MS).unref();

/** E2E_SHARD=k/n runs every n-th file from the k-th (1-based), so one release's files can share the machine's cores
 * (most of a test's time is waiting on sockets and timers). */
const [shard, shards] = (process.env.E2E_SHARD ?? '1/1').split('/').map(Number) as [number, number];
const { shared, alone } = e2eFiles(shard, shards);

// A test that ends the process itself (process.exit) skips the rest and the shared files' summary: whatever code
// it exits with, that is a failure. The process drained normally when 'beforeExit' came first.
let drained = false;
process.once('beforeExit', () => {
  drained = true;
});
process.on('exit', () => {
  if (!drained) process.exitCode = Math.max(1, Number(process.exitCode ?? 0));
  memoryChild?.kill(); // ended early: the memory-measuring files' process does not outlive it
});

let memoryChild: ChildProcess | undefined;
// A signal would end the process without its 'exit' listeners (which stop the memory-measuring files' process).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const isolated = new Promise<number>((resolve) => {
  if (alone.length === 0) return resolve(0);
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=120000', ...alone], { cwd: ROOT, stdio: 'inherit' });
  memoryChild = child;
  child.once('exit', (code, signal) => {
    memoryChild = undefined;
    resolve(code ?? (signal ? 1 : 0));
  });
});
for (const file of shared) await import(pathToFileURL(join(ROOT, file)).href);
console.error(`# ${shared.length} test files in this process, ${alone.length} that measure memory each in its own`);
// Set only on failure: node:test sets the exit code for the shared files when they end, but not over one set
// before then (setting 0 here made a failed shard exit 0).
const isolatedExit = await isolated;
if (isolatedExit !== 0) process.exitCode = isolatedExit;
