// Which test files run where, for `npm test` (scripts/test-all.ts) and the older-release runs of `.ci/run`
// (scripts/e2e-one-process.ts), so the lists cannot drift. Loading the gateway's modules costs about 2 s of CPU
// per test process, which was half of `npm test` and of CI when every file had its own process; the end-to-end
// files share a process instead, except those that measure the process's own memory.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;

/**
 * Files whose outcome no Wallaroo release can change, left out of the older-release runs to keep CI under 15
 * minutes: caller identity is settled before the gateway calls Wallaroo, and the CLI's commands other than the
 * demo and the simulator (`demo-*`, `simulate-*`) never start a simulated Wallaroo. `npm test` runs them, each in
 * its own process.
 */
const RELEASE_INDEPENDENT = /^test\/(callers\/|cli\/(?!demo-|simulate-))/;
/** A file-level hook (unindented `before(`, `afterEach(`...), which a shared process would apply to other files. */
const TOP_LEVEL_HOOK = /^(before|after|beforeEach|afterEach)\(/m;
/** A file that imports this helper measures the process's peak memory, so it needs a process of its own. */
const MEASURES_MEMORY = /helpers\/responsiveness\.ts/;

/** The folders `npm run test:e2e` runs, read from package.json. */
function e2eFolders(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return [...pkg.scripts['test:e2e']!.matchAll(/\btest\/[a-z-]+/g)].map((match) => match[0]);
}

/** Every `*.test.ts` under `folder` (relative to the repository), sorted. */
export function testFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join(folder, name))
    .sort();
}

export interface E2eFiles {
  /** Run one after another in one process (per shard). */
  shared: string[];
  /** Measure the process's memory: each in its own process. */
  alone: string[];
}

/**
 * The end-to-end files every release runs (relative paths, sorted), split into those that can share a process and
 * those that measure memory; E2E_SHARD-style `shard`/`shards` takes every n-th shared file from the k-th
 * (1-based), and the memory-measuring files go with shard 1.
 */
export function e2eFiles(shard = 1, shards = 1): E2eFiles {
  if (!(shards >= 1 && shard >= 1 && shard <= shards)) throw new Error(`shard ${shard}/${shards}: expected k/n with 1 <= k <= n`);
  const files = e2eFolders()
    .flatMap((folder) => testFiles(folder))
    .filter((file) => !RELEASE_INDEPENDENT.test(file))
    .sort();
  const texts = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
  const measuresMemory = new Set(files.filter((file) => MEASURES_MEMORY.test(texts.get(file)!)));
  // In a shared process a file's top-level hook would run for every later file's tests: refused, loudly.
  const hooked = files.filter((file) => !measuresMemory.has(file) && TOP_LEVEL_HOOK.test(texts.get(file)!));
  if (hooked.length > 0) throw new Error(`top-level before/after hooks in end-to-end files that share a process: ${hooked.join(', ')}; use t.before/t.after inside the test`);
  return {
    shared: files.filter((file) => !measuresMemory.has(file)).filter((_file, index) => index % shards === shard - 1),
    alone: shard === 1 ? files.filter((file) => measuresMemory.has(file)) : [],
  };
}
