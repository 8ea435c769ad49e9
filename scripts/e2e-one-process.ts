// The end-to-end folders in one process, one test file after another: what CI runs against each older Wallaroo
// release the simulator models (WALLAROO_SIM_VERSION). `npm run test:e2e` gives each file its own process, as
// `npm test` does; loading the gateway's modules costs about 2 s of CPU per process, which over 140 files and two
// releases was half of CI's time. Files that measure this process's memory (peak RSS is a whole-process figure,
// which earlier files would distort) still run each in their own process, beside the shared one.
// Usage: [E2E_SHARD=k/n] node --import tsx scripts/e2e-one-process.ts
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = new URL('..', import.meta.url).pathname;
/**
 * Files whose outcome no Wallaroo release can change, left out of the older-release runs to keep CI under 15
 * minutes: caller identity is settled before the gateway calls Wallaroo, and the CLI's commands other than the
 * demo and the simulator (`demo-*`, `simulate-*`) never start a simulated Wallaroo. `npm test` runs them all.
 */
const RELEASE_INDEPENDENT = /^test\/(callers\/|cli\/(?!demo-|simulate-))/;
/** A file that imports this helper measures the process's peak memory, so it needs a process of its own. */
const MEASURES_MEMORY = /helpers\/responsiveness\.ts/;

/** The folders `npm run test:e2e` runs, read from package.json so the two lists cannot drift. */
function e2eFolders(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return [...pkg.scripts['test:e2e']!.matchAll(/\btest\/[a-z-]+/g)].map((match) => match[0]);
}

function testFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join(folder, name));
}

/** `--test-timeout` does not reach tests outside `node --test`: the run as a whole is bounded instead. */
const RUN_LIMIT_MS = 15 * 60_000;
setTimeout(() => {
  console.error(`# the end-to-end run did not finish within ${RUN_LIMIT_MS / 60_000} minutes: a test hangs`);
  process.exit(1);
}, RUN_LIMIT_MS).unref();

const files = e2eFolders()
  .flatMap((folder) => testFiles(folder))
  .filter((file) => !RELEASE_INDEPENDENT.test(file))
  .sort()
  .map((file) => join(ROOT, file));
/**
 * E2E_SHARD=k/n runs every n-th file from the k-th (1-based), so one release's files can share the machine's cores
 * (most of a test's time is waiting on sockets and timers); the memory-measuring files go with shard 1.
 */
const [shard, shards] = (process.env.E2E_SHARD ?? '1/1').split('/').map(Number) as [number, number];
if (!(shards >= 1 && shard >= 1 && shard <= shards)) throw new Error(`E2E_SHARD=${process.env.E2E_SHARD}: expected k/n with 1 <= k <= n`);
const measuresMemory = new Set(files.filter((file) => MEASURES_MEMORY.test(readFileSync(file, 'utf8'))));
const alone = shard === 1 ? files.filter((file) => measuresMemory.has(file)) : [];
const shared = files.filter((file, index) => !measuresMemory.has(file) && index % shards === shard - 1);

const isolated = new Promise<number>((resolve) => {
  if (alone.length === 0) return resolve(0);
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=120000', ...alone], { cwd: ROOT, stdio: 'inherit' });
  child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});
for (const file of shared) await import(pathToFileURL(file).href);
console.error(`# ${shared.length} test files in this process, ${alone.length} that measure memory each in its own`);
process.exitCode = Math.max(Number(process.exitCode ?? 0), await isolated);
