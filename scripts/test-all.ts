// `npm test`, after the typecheck and the linters: every test file, against the simulated Wallaroo release
// WALLAROO_SIM_VERSION picks (2025 by default). The end-to-end files share two processes (scripts/test-files.ts
// says which and why: a process per file cost about 2 s of CPU each, most of the suite's time), the other files get
// a process each under `node --test`. Both parts run at once; the per-file part reports as it goes, each
// end-to-end shard is summed up at the end, its whole log printed when it failed or ran no test.
// `--e2e-only`: the end-to-end shards alone (what `.ci/run` runs against each older release).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eFiles, ROOT, testFiles } from './test-files.ts';

const SHARDS = 2;
const E2E_ONLY = process.argv.includes('--e2e-only');
const RELEASE = process.env.WALLAROO_SIM_VERSION ?? 'the default release';

const children = new Set<ChildProcess>();

function run(args: string[], env: NodeJS.ProcessEnv, output: 'inherit' | number): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', output, output] });
  children.add(child);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const logs = mkdtempSync(join(tmpdir(), 'wallaroo-gateway-tests-'));
process.on('exit', () => rmSync(logs, { recursive: true, force: true }));
// Interrupted (a signal to this process alone, not to its group): the children go with it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(130);
  });
}

const inE2e = new Set(Object.values(e2eFiles()).flat());
const ownProcess = testFiles('test').filter((file) => !inE2e.has(file));

const shards = Array.from({ length: SHARDS }, (_, i) => {
  const log = join(logs, `e2e-${i + 1}.log`);
  const env = { ...process.env, E2E_SHARD: `${i + 1}/${SHARDS}` };
  return { name: `end-to-end shard ${i + 1}/${SHARDS} against ${RELEASE}`, log, done: run(['--import', 'tsx', 'scripts/e2e-one-process.ts'], env, openSync(log, 'w')) };
});
let failed = false;
if (!E2E_ONLY) {
  console.log(`# ${ownProcess.length} test files each in its own process (below); ${inE2e.size} end-to-end files in ${SHARDS} shards (summed up at the end)`);
  failed = (await run(['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...ownProcess], process.env, 'inherit')) !== 0;
}

for (const { name, log, done } of shards) {
  const code = await done;
  const text = readFileSync(log, 'utf8');
  const counts = text.match(/^# (pass|fail) \d+$/gm) ?? [];
  // A shard that ran no test (a broken split) fails too, and so does one that reports a failed or cancelled (timed
  // out) test whatever its exit code.
  if (code === 0 && /^# pass [1-9]/m.test(text) && !/^# (fail|cancelled) [1-9]/m.test(text)) {
    console.log(`# ${name}: ${counts.join(' ')}`);
  } else {
    failed = true;
    console.log(`# ${name} FAILED (exit ${code}):\n${text}`);
  }
}
console.log(failed ? '# FAILED' : `# every ${E2E_ONLY ? 'end-to-end ' : ''}file passed`);
process.exitCode = failed ? 1 : 0;
