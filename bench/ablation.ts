import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BODY, buildAll, CONNECTIONS, callerToken, cpuUs, SERVERS, startGateway, startServer, stop } from './proxy.ts';

// `npm run bench ablate` (or `npm run bench -- --ablate`): the gateway's CPU time per request with each feature
// turned off in turn (or, for the optional ones, on), all in the same run: every variant is its own compiled
// gateway process, all run at once, loaded in turn over alternating rounds, and the median round is reported.
// CPU time (/proc utime + stime over the answers served) is the measure, not throughput: on a shared 2-core
// machine wall time swings with other people's work, CPU time per request much less. Reference servers (the
// minimal forwarder, a bare Fastify route, bare @fastify/http-proxy) are measured alongside, as the floor.

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const TASKSET = existsSync('/usr/bin/taskset');
/** BENCH_BASELINE=<checkout with a compiled dist/>: that build is measured too, all on (before and after a change). */
const BASELINE = process.env.BENCH_BASELINE;

interface Variant {
  name: string;
  /** What this row changes against the full gateway. */
  kind: 'reference' | 'full' | 'baseline' | 'without' | 'with';
  yaml?: string[];
  ablate?: string[];
  headers?: Record<string, string>;
  root?: string;
}

export interface AblationRow {
  name: string;
  kind: Variant['kind'];
  /** Median over rounds of the process's CPU microseconds per answered request. */
  cpuUsPerRequest: number;
  /** The least disturbed round: other work on a shared machine only ever adds CPU time (cache, scheduling). */
  minCpuUsPerRequest: number;
  minDeltaUs: number | null;
  /** Difference to the full gateway (negative: what turning the feature off saves). */
  deltaUs: number | null;
  /** Each round's figure, for judging the noise. */
  rounds: number[];
  non2xx: number;
}

export interface AblationResult {
  seconds: number;
  rounds: number;
  connections: number;
  pinned: boolean;
  loadAverage: string;
  rows: AblationRow[];
}

const NO_FEATURES = ['metrics', 'engine-time', 'slot', 'headers'];

function variants(tracingEndpoint: string, callersYaml: string, callerTokenValue: string): Variant[] {
  const tracing = (ratio: number) => [`tracing: { enabled: true, endpoint: "${tracingEndpoint}", sampleRatio: ${ratio}, exportIntervalMs: 1000 }`];
  return [
    { name: 'minimal node:http + undici Pool', kind: 'reference' },
    { name: 'Fastify route + undici Pool', kind: 'reference' },
    { name: 'bare @fastify/http-proxy', kind: 'reference' },
    { name: 'gateway, all on', kind: 'full' },
    ...(BASELINE ? [{ name: `gateway, all on, built in ${BASELINE}`, kind: 'baseline' as const, root: BASELINE }] : []),
    { name: 'request log', kind: 'without', yaml: ['logging: { level: warn }'] },
    { name: 'metrics', kind: 'without', ablate: ['metrics'] },
    { name: 'engine-time read', kind: 'without', ablate: ['engine-time'] },
    { name: 'rate limit (memory)', kind: 'without', yaml: ['rateLimit: { store: memory, default: null }'] },
    { name: 'breaker and concurrency slot', kind: 'without', ablate: ['slot'] },
    { name: 'header hygiene', kind: 'without', ablate: ['headers'] },
    { name: 'all of the above', kind: 'without', yaml: ['logging: { level: warn }', 'rateLimit: { store: memory, default: null }'], ablate: NO_FEATURES },
    { name: 'tracing, 1% sampled', kind: 'with', yaml: tracing(0.01) },
    { name: 'tracing, 100% sampled', kind: 'with', yaml: tracing(1) },
    { name: 'caller identity (service-account tokens)', kind: 'with', yaml: [callersYaml], headers: { authorization: `Bearer ${callerTokenValue}` } },
  ];
}

async function startReference(name: string, upstreamUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const script = { 'minimal node:http + undici Pool': 'min-forwarder.js', 'Fastify route + undici Pool': 'fastify-forwarder.js', 'bare @fastify/http-proxy': 'bare-proxy.js' }[name];
  if (!script) throw new Error(`no reference server named ${name}`);
  return startServer([process.execPath, `${SERVERS}/${script}`, upstreamUrl]);
}

export async function benchAblation(): Promise<AblationResult> {
  if (TASKSET) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' }); // the load generator
  buildAll();
  // The OTLP sink for the tracing rows runs here, on the load generator's CPU.
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const tracingEndpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  const upstream = await startServer([process.execPath, `${SERVERS}/upstream.js`]);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const children: ChildProcess[] = [upstream.child];
  const work = mkdtempSync(join(tmpdir(), 'bench-ablation-'));
  try {
    mkdirSync(join(work, 'callers'));
    const caller = await callerToken(join(work, 'callers'));
    const running: Array<Variant & { pid: number; url: string }> = [];
    for (const [i, variant] of variants(tracingEndpoint, caller.callersYaml, caller.token).entries()) {
      const server = variant.kind === 'reference'
        ? await startReference(variant.name, upstreamUrl)
        : await startGateway(upstream.port, work, `ablation-${i}`, variant.yaml ?? [], variant.ablate ?? [], variant.root);
      children.push(server.child);
      running.push({ ...variant, pid: server.child.pid!, url: `http://127.0.0.1:${server.port}/pipelines/ccfraud/infer` });
    }
    const shoot = (url: string, seconds: number, headers: Record<string, string> = {}) =>
      autocannon({ url, method: 'POST', connections: CONNECTIONS, duration: seconds, headers: { 'content-type': 'application/json; format=pandas-records', ...headers }, body: BODY });
    for (const { url, headers } of running) await shoot(url, 2, headers); // warm-up: JIT, pools, token and URL
    const perRound = new Map<string, number[]>(running.map(({ name }) => [name, []]));
    const non2xx = new Map<string, number>(running.map(({ name }) => [name, 0]));
    for (let round = 0; round < ROUNDS; round++) {
      // The order turns each round, so no variant always follows the same neighbour.
      for (let k = 0; k < running.length; k++) {
        const { name, url, headers, pid } = running[(k + round) % running.length]!;
        const before = cpuUs(pid);
        const result = await shoot(url, SECONDS, headers);
        perRound.get(name)!.push((cpuUs(pid) - before) / Math.max(1, result['2xx']));
        non2xx.set(name, non2xx.get(name)! + result.non2xx + result.errors);
      }
      process.stdout.write(`  ablation round ${round + 1}/${ROUNDS} done\n`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const full = median(perRound.get('gateway, all on')!);
    const fullMin = Math.min(...perRound.get('gateway, all on')!);
    const rows = running.map(({ name, kind }): AblationRow => {
      const us = median(perRound.get(name)!);
      const min = Math.min(...perRound.get(name)!);
      const compared = kind === 'without' || kind === 'with' || kind === 'baseline';
      return {
        name, kind, cpuUsPerRequest: Math.round(us), deltaUs: compared ? Math.round(us - full) : null,
        minCpuUsPerRequest: Math.round(min), minDeltaUs: compared ? Math.round(min - fullMin) : null,
        rounds: perRound.get(name)!.map(Math.round), non2xx: non2xx.get(name)!,
      };
    });
    return { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, pinned: TASKSET, loadAverage: execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim(), rows };
  } finally {
    await Promise.all(children.map(stop));
    sink.closeAllConnections();
    await new Promise((resolve) => sink.close(resolve));
    rmSync(work, { recursive: true, force: true });
  }
}

export function printAblation(result: AblationResult): void {
  console.log(`\nCPU per request by feature: ${result.connections} connections, ${result.rounds} alternating rounds of ${result.seconds} s, median round; ${result.pinned ? 'servers on CPU 0, load on CPU 1' : 'unpinned (no taskset)'}; load average at the end ${result.loadAverage}`);
  console.log(`  ${'server / feature'.padEnd(44)} ${'median us'.padStart(9)} ${'vs all on'.padStart(9)} ${'min us'.padStart(7)} ${'vs all on'.padStart(9)}   rounds`);
  const signed = (value: number | null) => (value === null ? '' : `${value > 0 ? '+' : ''}${value}`);
  for (const row of result.rows) {
    const label = row.kind === 'without' ? `- ${row.name}` : row.kind === 'with' ? `+ ${row.name}` : row.name;
    const failed = row.non2xx > 0 ? `  (${row.non2xx} non-2xx or errors)` : '';
    console.log(`  ${label.padEnd(44)} ${String(row.cpuUsPerRequest).padStart(9)} ${signed(row.deltaUs).padStart(9)} ${String(row.minCpuUsPerRequest).padStart(7)} ${signed(row.minDeltaUs).padStart(9)}   ${row.rounds.join(' ')}${failed}`);
  }
}
