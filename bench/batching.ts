import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { DEFAULT_CLIENT_SECRET, DEFAULT_ENGINE_COST, DEFAULT_USER, type Simulator, startSimulator } from '../src/simulator/server.ts';
import { freePort } from '../test/helpers/ports.ts';
import { stop, waitReady } from './proxy.ts';

/**
 * Micro-batching (README, "Micro-batching"): closed-loop callers each sending one ccfraud row (Wallaroo's tutorial
 * rows), against the simulator with its engine cost model on — calling Wallaroo directly, through the gateway
 * without batching, and through the gateway with batching — at 64 callers and at 1. Throughput, p50 and p99 per
 * target and the ratios, all from one run. The gateway runs compiled in its own process; the simulator and the
 * callers share this one.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 1;
const BATCHING = { maxRows: 64, maxDelayMs: 2, maxBytes: '4MiB' };
/** Both gateways: calls in flight to Wallaroo per pipeline, twice the engine's workers (as an operator would size it). */
const MAX_CONCURRENCY = 2 * DEFAULT_ENGINE_COST.workers;

export interface ClosedLoopResult {
  callers: number;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface BatchingBenchResult {
  engine: typeof DEFAULT_ENGINE_COST;
  batching: typeof BATCHING;
  maxConcurrency: number;
  seconds: number;
  results: Record<string, ClosedLoopResult>;
  /** Rows per call to Wallaroo through the batching gateway, over the whole run (its batch_rows histogram). */
  meanBatchRows: number;
  ratios: Record<string, number>;
  targetsMet: Record<string, boolean>;
}

const ROWS = (JSON.parse(readFileSync(join(ROOT, 'test/fixtures/wallaroo-samples/cc_data_1k.df.json'), 'utf8')) as unknown[]).map((row) => JSON.stringify([row]));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `callers` loops, each sending one row and waiting for the answer, for `seconds` after a warm-up. */
async function closedLoop(url: string, headers: Record<string, string>, callers: number, seconds: number): Promise<ClosedLoopResult> {
  const dispatcher = new Agent({ connections: callers, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stopping = false;
  const loop = async (caller: number) => {
    for (let i = caller; !stopping; i += callers) {
      const started = performance.now();
      try {
        const response = await request(url, { method: 'POST', headers, body: ROWS[i % ROWS.length]!, dispatcher });
        await response.body.dump();
        if (response.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      if (measuring) latencies.push(performance.now() - started);
    }
  };
  const loops = Array.from({ length: callers }, (_, caller) => loop(caller));
  await sleep(WARMUP_SECONDS * 1000);
  measuring = true;
  const from = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - from) / 1000;
  stopping = true;
  await Promise.all(loops);
  await dispatcher.close();
  latencies.sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return { callers, requests: latencies.length, errors, rps: Math.round(latencies.length / elapsed), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}

async function startGateway(simulator: Simulator, work: string, name: string, batching: boolean): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const config = join(work, `${name}.yaml`);
  writeFileSync(config, [
    `server: { host: 127.0.0.1, port: ${port}, maxEventLoopDelayMs: 0 }`,
    `wallaroo: { url: "${simulator.url}", auth: { clientSecret: ${DEFAULT_CLIENT_SECRET}, tokenUrl: "${simulator.tokenUrl}" }, mlops: { username: ${DEFAULT_USER.username}, password: ${DEFAULT_USER.password} } }`,
    `pipelines: [{ name: ccfraud, workspace: demo, maxConcurrency: ${MAX_CONCURRENCY}${batching ? `, batching: ${JSON.stringify(BATCHING)}` : ''} }]`,
    'logging: { level: info }',
  ].join('\n'));
  const child = spawn(process.execPath, ['dist/main.js', 'serve', '--config', config], { cwd: ROOT, stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'] });
  await waitReady(`http://127.0.0.1:${port}/readyz`);
  return { child, url: `http://127.0.0.1:${port}/pipelines/ccfraud/infer` };
}

async function serviceToken(simulator: Simulator): Promise<string> {
  const response = await request(simulator.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`api-client:${DEFAULT_CLIENT_SECRET}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  return `Bearer ${((await response.body.json()) as { access_token: string }).access_token}`;
}

export async function benchBatching(): Promise<BatchingBenchResult> {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  const simulator = await startSimulator({ engineCost: true });
  const work = mkdtempSync(join(tmpdir(), 'bench-batching-'));
  const children: ChildProcess[] = [];
  const results: Record<string, ClosedLoopResult> = {};
  let meanBatchRows = Number.NaN;
  try {
    const plain = await startGateway(simulator, work, 'gateway', false);
    children.push(plain.child);
    const batched = await startGateway(simulator, work, 'gateway-batching', true);
    children.push(batched.child);
    const json = { 'content-type': 'application/json; format=pandas-records' };
    // Tokens last an hour in the simulator: one is enough for the direct calls.
    const direct = { url: simulator.control.inferenceUrl('ccfraud'), headers: { ...json, authorization: await serviceToken(simulator) } };
    const targets = { direct, gateway: { url: plain.url, headers: json }, 'gateway + batching': { url: batched.url, headers: json } };
    for (const callers of [64, 1]) {
      for (const [name, target] of Object.entries(targets)) {
        results[`${name}, ${callers} caller${callers > 1 ? 's' : ''}`] = await closedLoop(target.url, target.headers, callers, SECONDS);
      }
    }
    const metrics = await (await request(new URL('/metrics', batched.url))).body.text();
    const sum = Number(/^wallaroo_gateway_batch_rows_sum\{pipeline="ccfraud"\} (\S+)$/m.exec(metrics)?.[1]);
    const count = Number(/^wallaroo_gateway_batch_rows_count\{pipeline="ccfraud"\} (\S+)$/m.exec(metrics)?.[1]);
    meanBatchRows = Math.round((sum / count) * 10) / 10;
  } finally {
    await Promise.all(children.map(stop));
    await simulator.close();
    rmSync(work, { recursive: true, force: true });
  }
  const r = (name: string) => results[name]!;
  const ratios = {
    'throughput, batching / direct (64 callers)': r('gateway + batching, 64 callers').rps / r('direct, 64 callers').rps,
    'throughput, gateway / direct (64 callers)': r('gateway, 64 callers').rps / r('direct, 64 callers').rps,
    'p99, batching / direct (64 callers)': r('gateway + batching, 64 callers').p99Ms / r('direct, 64 callers').p99Ms,
    'p50 added by batching, ms (1 caller)': r('gateway + batching, 1 caller').p50Ms - r('gateway, 1 caller').p50Ms,
  };
  const rounded = Object.fromEntries(Object.entries(ratios).map(([key, value]) => [key, Math.round(value * 100) / 100]));
  return {
    engine: { ...DEFAULT_ENGINE_COST },
    batching: BATCHING,
    maxConcurrency: MAX_CONCURRENCY,
    seconds: SECONDS,
    results,
    meanBatchRows,
    ratios: rounded,
    targetsMet: {
      'batching >= 4x direct throughput': ratios['throughput, batching / direct (64 callers)'] >= 4,
      'batching p99 <= direct p99': ratios['p99, batching / direct (64 callers)'] <= 1,
      'batching adds <= maxDelayMs to p50 at 1 caller': ratios['p50 added by batching, ms (1 caller)'] <= BATCHING.maxDelayMs,
    },
  };
}

export function printBatching(result: BatchingBenchResult): void {
  const { engine } = result;
  console.log(`\nMicro-batching: engine ${engine.callOverheadMs} ms per call + ${engine.rowCostMs} ms per row on ${engine.workers} workers; batching ${JSON.stringify(result.batching)}; maxConcurrency ${result.maxConcurrency}; ${result.seconds} s per target`);
  console.log('| target | requests/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|');
  for (const [name, value] of Object.entries(result.results)) console.log(`| ${name} | ${value.rps} | ${value.p50Ms} | ${value.p99Ms} | ${value.errors} |`);
  console.log(`mean rows per batched call: ${result.meanBatchRows}`);
  for (const [name, value] of Object.entries(result.ratios)) console.log(`${name}: ${value}`);
  for (const [name, met] of Object.entries(result.targetsMet)) console.log(`${met ? 'met' : 'NOT met'}: ${name}`);
}
