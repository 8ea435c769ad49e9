import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Pool, request } from 'undici';
import { freePort } from '../test/helpers/ports.ts';

/**
 * Proxy overhead, measured in one run against the same upstream and the same load: (a) the upstream directly,
 * (b) a bare @fastify/http-proxy, (c) nginx when installed, (d) a minimal node:http + undici Pool forwarder,
 * (e) wallaroo-gateway with tokens, discovery cache and metrics on. Servers run on CPU 0, the load generator
 * on CPU 1 (taskset), measured in turn over alternating rounds (medians reported). Loopback only; every run is bounded in time.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const CONNECTIONS = 50;
const SATURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const FIXED_RATE = 1_000;
const FIXED_SECONDS = 3;
/** Each target is measured this many times, in alternation with the others; the median round is reported. */
const ROUNDS = 3;
const TASKSET = existsSync('/usr/bin/taskset');

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU time (user + system) the proxy process spent per request served, in microseconds. */
  cpuUsPerRequest?: number;
}

export interface TargetResult {
  name: string;
  skipped?: string;
  saturation?: LoadResult;
  fixedRate?: LoadResult;
}

export interface ProxyBenchResult {
  bodyBytes: number;
  connections: number;
  pinned: boolean;
  targets: TargetResult[];
  ratios: Record<string, number | null>;
  addedLatencyAt1000: { p50Ms: number; p99Ms: number } | null;
  steadyState: { tokenCalls: number; mlopsCalls: number };
  memory: { rssAfterLoadMb: number; rssBefore200MbMb: number; rssPeakDuring200MbMb: number; uploadStatus: number };
  /** Gateway CPU time per request (microseconds, median round) with tracing off, at 1% and at 100% sampling. */
  tracingCpu: TracingCpuResult;
  targetsMet: Record<string, boolean>;
}

export interface TracingCpuResult {
  requests: number;
  cpuMicrosPerRequest: Record<string, number>;
  /** Added CPU per request over tracing off, in microseconds. */
  addedMicros: Record<string, number>;
  /** wallaroo_gateway_trace_spans_total per gateway at the end: a dropped span costs less than an exported one. */
  spans: Record<string, Record<string, number>>;
}

/** Alternating rounds for the CPU figures: more than the latency rounds, as a shared machine is noisy. */
const CPU_ROUNDS = 5;

// A 1.2 KB pandas-records body: three ccfraud rows.
const ROW = { tensor: Array.from({ length: 29 }, (_, i) => Math.round(Math.cos(i) * 1e8) / 1e8) };
export const BODY = JSON.stringify([ROW, ROW, ROW]);

function pinned(command: string[], cpu: number): string[] {
  return TASKSET ? ['taskset', '-c', String(cpu), ...command] : command;
}

/** Starts a server process that prints "listening PORT"; returns its port. */
export async function startServer(command: string[]): Promise<{ child: ChildProcess; port: number }> {
  const [file, ...args] = pinned(command, 0);
  const child = spawn(file!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${command.join(' ')} did not start: ${output}`)), 30_000);
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited ${code}: ${output}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export async function waitReady(url: string): Promise<void> {
  // Up to about 30 s: a gateway starting on a busy shared core can take 10.
  for (let i = 0; i < 600; i++) {
    try {
      const response = await request(url);
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${url} never became ready`);
}

/** The process's CPU time so far (user + system), in microseconds, from /proc. */
export function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS; // utime, stime (fields 14, 15)
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function load(url: string, seconds: number, headers: Record<string, string> = {}, pid?: number): Promise<LoadResult> {
  const cpuBefore = pid === undefined ? 0 : cpuUs(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json; format=pandas-records', ...headers },
    body: BODY,
  });
  const served = result.requests.total;
  return {
    rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx,
    ...(pid === undefined || served === 0 ? {} : { cpuUsPerRequest: (cpuUs(pid) - cpuBefore) / served }),
  };
}

/**
 * Open-loop load at a fixed rate, evenly paced, latency in microseconds from each request's scheduled start.
 * autocannon cannot measure this: its rate option sends each second's quota as a burst, and its latencies are
 * whole milliseconds, too coarse for a half-millisecond target.
 */
export async function paced(url: string, rate: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: CONNECTIONS, pipelining: 1 });
  const total = rate * seconds;
  const latencies = new Float64Array(total);
  let errors = 0;
  let non2xx = 0;
  let finished = 0;
  const started = performance.now();
  const fire = (index: number, scheduledAt: number, done: () => void) => {
    pool
      .request({ path: `${target.pathname}${target.search}`, method: 'POST', headers: { 'content-type': 'application/json; format=pandas-records', ...headers }, body: BODY })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode < 200 || response.statusCode >= 300) non2xx++;
      })
      .catch(() => errors++)
      .finally(() => {
        latencies[index] = performance.now() - scheduledAt;
        if (++finished === total) done();
      });
  };
  await new Promise<void>((resolve) => {
    let sent = 0;
    // Sends whatever is due, then yields to I/O: the load generator has its own CPU, so spinning is fine.
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
      for (; sent < due; sent++) fire(sent, started + (sent * 1000) / rate, resolve);
      if (sent < total) setImmediate(tick);
    };
    tick();
  });
  await pool.close();
  const sorted = latencies.sort();
  const at = (q: number) => Math.round(sorted[Math.min(total - 1, Math.floor(q * total))]! * 1000) / 1000;
  return { rps: total / ((performance.now() - started) / 1000), p50: at(0.5), p99: at(0.99), errors, non2xx };
}

/** Per-figure median over rounds. */
function medianRound(rounds: LoadResult[]): LoadResult {
  const median = (pick: (r: LoadResult) => number) => rounds.map(pick).sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
  return {
    rps: median((r) => r.rps),
    p50: median((r) => r.p50),
    p99: median((r) => r.p99),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    ...(rounds.every((r) => r.cpuUsPerRequest !== undefined) ? { cpuUsPerRequest: median((r) => r.cpuUsPerRequest!) } : {}),
  };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx'];

function nginxBinary(): string | null {
  for (const candidate of NGINX_PATHS) if (existsSync(candidate)) return candidate;
  return null;
}

/**
 * nginx is the non-Node reference, so the bench installs it where the machine allows: as root with apt-get (a
 * Debian machine, as CI's), unless BENCH_NO_INSTALL=1. Elsewhere it says in one line why nginx is not measured.
 */
export function ensureNginx(): { binary: string } | { missing: string } {
  const found = nginxBinary();
  if (found) return { binary: found };
  const hint = `no binary at ${NGINX_PATHS.join(' or ')} (apt-get install -y nginx)`;
  if (process.env.BENCH_NO_INSTALL === '1') return { missing: `${hint}; BENCH_NO_INSTALL=1` };
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return { missing: `${hint}; installing it needs root and apt-get` };
  console.log('nginx: installing nginx with apt-get for the bench (BENCH_NO_INSTALL=1 to skip)');
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 });
  try {
    try {
      apt(['install', '-y', '-qq', '--no-install-recommends', 'nginx']);
    } catch {
      apt(['update', '-qq']); // a fresh machine's package lists may be empty or stale
      apt(['install', '-y', '-qq', '--no-install-recommends', 'nginx']);
    }
  } catch (error) {
    return { missing: `${hint}; apt-get failed: ${(error as Error).message.split('\n')[0]}` };
  }
  const installed = nginxBinary();
  return installed ? { binary: installed } : { missing: `${hint}; apt-get installed no binary there` };
}

async function startNginx(upstreamPort: number, work: string, binary: string): Promise<{ child: ChildProcess; port: number }> {
  const dir = join(work, 'nginx');
  mkdirSync(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream wallaroo { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 100000;
    location /pipelines/ccfraud/infer {
      proxy_pass http://wallaroo/v1/api/pipelines/infer/ccfraud-1/ccfraud;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer bench.token.value";
    }
  }
}
`);
  const [file, ...args] = pinned([binary, '-p', dir, '-c', join(dir, 'nginx.conf')], 0);
  const child = spawn(file!, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(`http://127.0.0.1:${port}/pipelines/ccfraud/infer`);
  return { child, port };
}

/**
 * A service-account token and the JWKS that verifies it, as a Kubernetes API server would issue them; the
 * gateway reads the keys from a file (callers.kubernetes.jwksFile), so only verification is measured.
 */
export async function callerToken(dir: string): Promise<{ token: string; callersYaml: string }> {
  const issuer = 'https://kubernetes.default.svc.cluster.local';
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }] }));
  const token = await new SignJWT({ 'kubernetes.io': { namespace: 'bench', serviceaccount: { name: 'client' } } })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' }).setIssuer(issuer).setAudience(['wallaroo-gateway'])
    .setSubject('system:serviceaccount:bench:client').setIssuedAt().setExpirationTime('2h').sign(privateKey);
  return { token, callersYaml: `callers: { authentication: kubernetes, kubernetes: { issuer: "${issuer}", jwksFile: "${join(dir, 'jwks.json')}" } }` };
}

/**
 * The gateway as the targets define it: tokens, discovery cache, a memory rate limit (high enough never to refuse)
 * and metrics on, the request log written; `extraYaml` lines override or add config, `ablate` names features
 * bench/servers/ablate.ts turns off (features without a config switch).
 */
export async function startGateway(
  upstreamPort: number,
  work: string,
  name = 'gateway',
  extraYaml: string[] = [],
  ablate: string[] = [],
  /** Another checkout whose compiled dist/ runs instead (a baseline in the same run); this one by default. */
  root = ROOT,
): Promise<{ child: ChildProcess; port: number; metricsPort: number }> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const base = [
    `server: { host: 127.0.0.1, port: ${port}, bodyLimit: 256MiB }`,
    `wallaroo: { url: "http://127.0.0.1:${upstreamPort}", auth: { clientSecret: bench } }`,
    'pipelines: [{ name: ccfraud, workspace: demo, maxConcurrency: 256 }]',
    'logging: { level: info }',
    'rateLimit: { store: memory, default: { max: 1000000000, timeWindow: 1s } }',
  ];
  const keyOf = (line: string) => line.slice(0, line.indexOf(':'));
  const overridden = new Set(extraYaml.map(keyOf));
  writeFileSync(join(dir, 'gateway.yaml'), [...base.filter((line) => !overridden.has(keyOf(line))), ...extraYaml].join('\n'));
  // Logs go where production would send them: a file descriptor the gateway writes to (here /dev/null).
  const preload = ablate.length > 0 ? ['--import', `./${SERVERS}/ablate.js`] : [];
  const [file, ...args] = pinned([process.execPath, ...preload, 'dist/main.js', 'serve', '--config', join(dir, 'gateway.yaml')], 0);
  const env = ablate.length > 0 ? { ...process.env, BENCH_ABLATE: ablate.join(',') } : process.env;
  const child = spawn(file!, args, { cwd: root, env, stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'] });
  await waitReady(`http://127.0.0.1:${port}/readyz`);
  return { child, port, metricsPort: port };
}

async function counts(upstreamPort: number): Promise<{ token: number; mlops: number }> {
  const response = await request(`http://127.0.0.1:${upstreamPort}/_counts`);
  return (await response.body.json()) as { token: number; mlops: number };
}

/** Streams `megabytes` through the gateway while sampling its RSS: a passthrough must not buffer. */
async function streamLargeBody(gatewayPort: number, pid: number, megabytes: number): Promise<{ before: number; peak: number; status: number }> {
  const before = rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const total = megabytes * 1024 * 1024;
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  const response = await request(`http://127.0.0.1:${gatewayPort}/pipelines/ccfraud/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(total) },
    body,
    bodyTimeout: 120_000,
    headersTimeout: 120_000,
  });
  await response.body.dump();
  clearInterval(sampler);
  return { before, peak, status: response.statusCode };
}

/** User + system CPU time of a process, in microseconds (from /proc: clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * The gateway's CPU time per request with tracing off, at 1% and at 100% sampling, spans exported to an
 * OTLP/HTTP sink in this process (on the load generator's CPU). Three gateways run at once and are loaded in
 * turn over alternating rounds; each round's CPU time is read from /proc, divided by the answers served.
 */
async function benchTracingCpu(upstreamPort: number, work: string, children: ChildProcess[]): Promise<TracingCpuResult> {
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  try {
    const variants: Array<{ name: string; config: string[] }> = [
      { name: 'tracing off', config: [] },
      { name: 'tracing 1%', config: [`tracing: { enabled: true, endpoint: "${endpoint}", sampleRatio: 0.01, exportIntervalMs: 1000 }`] },
      { name: 'tracing 100%', config: [`tracing: { enabled: true, endpoint: "${endpoint}", sampleRatio: 1, exportIntervalMs: 1000 }`] },
    ];
    const gateways = [];
    for (const [i, variant] of variants.entries()) {
      const gateway = await startGateway(upstreamPort, work, `gateway-cpu-${i}`, variant.config);
      children.push(gateway.child);
      gateways.push({ ...variant, gateway, url: `http://127.0.0.1:${gateway.port}/pipelines/ccfraud/infer` });
    }
    for (const { url } of gateways) await load(url, 2); // warm-up
    const rounds = new Map<string, number[]>(variants.map(({ name }) => [name, []]));
    let requests = 0;
    for (let round = 0; round < CPU_ROUNDS; round++) {
      for (const { name, gateway, url } of gateways) {
        const before = cpuMicros(gateway.child.pid!);
        const result = await autocannon({ url, method: 'POST', connections: CONNECTIONS, duration: SATURATION_SECONDS, headers: { 'content-type': 'application/json; format=pandas-records' }, body: BODY });
        const answered = result['2xx'];
        rounds.get(name)!.push((cpuMicros(gateway.child.pid!) - before) / Math.max(1, answered));
        requests += answered;
      }
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const cpuMicrosPerRequest = Object.fromEntries([...rounds].map(([name, values]) => [name, Math.round(median(values))]));
    const off = cpuMicrosPerRequest['tracing off']!;
    const addedMicros = Object.fromEntries(Object.entries(cpuMicrosPerRequest).filter(([name]) => name !== 'tracing off').map(([name, value]) => [name, value - off]));
    const spans: TracingCpuResult['spans'] = {};
    for (const { name, gateway } of gateways) {
      const text = await (await request(`http://127.0.0.1:${gateway.port}/metrics`)).body.text();
      spans[name] = Object.fromEntries([...text.matchAll(/^wallaroo_gateway_trace_spans_total\{outcome="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
    }
    return { requests, cpuMicrosPerRequest, addedMicros, spans };
  } finally {
    sink.closeAllConnections();
    await new Promise((resolve) => sink.close(resolve));
  }
}

export const SERVERS = 'bench/.build/servers';

/**
 * Every server runs compiled, as in production (the Dockerfile runs dist/main.js): code run through tsx carries
 * a naming helper on every closure it creates, which would tax the closure-heavy gateway more than the baselines.
 */
export function buildAll(): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '-p', 'bench/tsconfig.servers.json'], { cwd: ROOT, stdio: 'inherit' });
}

export async function benchProxies(): Promise<ProxyBenchResult> {
  if (TASKSET) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' }); // the load generator
  buildAll();
  const upstream = await startServer([process.execPath, `${SERVERS}/upstream.js`]);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const children: ChildProcess[] = [];
  const targets: TargetResult[] = [];
  let memory: ProxyBenchResult['memory'] = { rssAfterLoadMb: 0, rssBefore200MbMb: 0, rssPeakDuring200MbMb: 0, uploadStatus: 0 };
  let steadyState = { tokenCalls: -1, mlopsCalls: -1 };
  let tracingCpu: TracingCpuResult = { requests: 0, cpuMicrosPerRequest: {}, addedMicros: {}, spans: {} };
  const work = mkdtempSync(join(tmpdir(), 'bench-proxy-')); // configs, nginx's temp paths; removed at the end
  try {
    // Every proxy runs at once (an idle one costs nothing) so they can be measured in alternation: a slow
    // patch of this shared machine then lands on all of them rather than on whichever ran at that moment.
    const urls: Array<{ name: string; url: string; headers?: Record<string, string>; pid?: number }> = [{ name: 'direct', url: `${upstreamUrl}/v1/api/pipelines/infer/ccfraud-1/ccfraud`, pid: upstream.child.pid! }];
    const bare = await startServer([process.execPath, `${SERVERS}/bare-proxy.js`, upstreamUrl]);
    children.push(bare.child);
    urls.push({ name: 'bare @fastify/http-proxy', url: `http://127.0.0.1:${bare.port}/pipelines/ccfraud/infer`, pid: bare.child.pid! });
    const nginxFound = ensureNginx();
    const nginx = 'binary' in nginxFound ? await startNginx(upstream.port, work, nginxFound.binary) : null;
    if ('missing' in nginxFound) console.log(`nginx: not measured, ${nginxFound.missing}`);
    if (nginx) {
      children.push(nginx.child);
      urls.push({ name: 'nginx', url: `http://127.0.0.1:${nginx.port}/pipelines/ccfraud/infer` }); // its workers are other processes: no CPU figure
    }
    const minimal = await startServer([process.execPath, `${SERVERS}/min-forwarder.js`, upstreamUrl]);
    children.push(minimal.child);
    urls.push({ name: 'minimal undici forwarder', url: `http://127.0.0.1:${minimal.port}/pipelines/ccfraud/infer`, pid: minimal.child.pid! });
    const gateway = await startGateway(upstream.port, work);
    children.push(gateway.child);
    urls.push({ name: 'wallaroo-gateway', url: `http://127.0.0.1:${gateway.port}/pipelines/ccfraud/infer`, pid: gateway.child.pid! });
    // The same gateway verifying each caller's service-account token (one token per caller, as in steady state).
    mkdirSync(join(work, 'callers'));
    const caller = await callerToken(join(work, 'callers'));
    const verifying = await startGateway(upstream.port, work, 'callers', [caller.callersYaml]);
    children.push(verifying.child);
    urls.push({ name: 'gateway + caller tokens', url: `http://127.0.0.1:${verifying.port}/pipelines/ccfraud/infer`, headers: { authorization: `Bearer ${caller.token}` }, pid: verifying.child.pid! });

    for (const { url, headers } of urls) await load(url, 2, headers); // warm-up: JIT, pools; the gateway fetches its token and URL
    const before = await counts(upstream.port);
    const saturationRounds = new Map<string, LoadResult[]>(urls.map(({ name }) => [name, []]));
    const pacedRounds = new Map<string, LoadResult[]>(urls.map(({ name }) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const { name, url, headers, pid } of urls) saturationRounds.get(name)!.push(await load(url, SATURATION_SECONDS, headers, pid));
      for (const { name, url, headers } of urls) pacedRounds.get(name)!.push(await paced(url, FIXED_RATE, FIXED_SECONDS, headers));
    }
    const after = await counts(upstream.port);
    for (const { name } of urls) {
      targets.push({ name, saturation: medianRound(saturationRounds.get(name)!), fixedRate: medianRound(pacedRounds.get(name)!) });
      if (name === 'bare @fastify/http-proxy' && !nginx) targets.push({ name: 'nginx', skipped: `no binary at ${NGINX_PATHS.join(' or ')} (apt-get install -y nginx)` });
    }
    steadyState = { tokenCalls: after.token - before.token, mlopsCalls: after.mlops - before.mlops };
    const rssAfterLoad = rssMb(gateway.child.pid!);
    const upload = await streamLargeBody(gateway.port, gateway.child.pid!, 200);
    memory = { rssAfterLoadMb: rssAfterLoad, rssBefore200MbMb: upload.before, rssPeakDuring200MbMb: upload.peak, uploadStatus: upload.status };
    tracingCpu = await benchTracingCpu(upstream.port, work, children);
  } finally {
    await Promise.all([...children, upstream.child].map(stop));
    rmSync(work, { recursive: true, force: true });
  }

  const rps = (name: string) => targets.find((t) => t.name === name)?.saturation?.rps ?? null;
  const gatewayRps = rps('wallaroo-gateway')!;
  const ratio = (name: string) => (rps(name) ? gatewayRps / rps(name)! : null);
  const direct = targets.find((t) => t.name === 'direct')!.fixedRate!;
  const gatewayFixed = targets.find((t) => t.name === 'wallaroo-gateway')!.fixedRate!;
  const addedLatencyAt1000 = { p50Ms: gatewayFixed.p50 - direct.p50, p99Ms: gatewayFixed.p99 - direct.p99 };
  const ratios = {
    'gateway/direct': ratio('direct'),
    'gateway/bare-proxy': ratio('bare @fastify/http-proxy'),
    'gateway/minimal-forwarder': ratio('minimal undici forwarder'),
    'gateway/nginx': ratio('nginx'),
    'gateway + caller tokens/gateway': rps('gateway + caller tokens') === null ? null : rps('gateway + caller tokens')! / gatewayRps,
  };
  return {
    bodyBytes: Buffer.byteLength(BODY),
    connections: CONNECTIONS,
    pinned: TASKSET,
    targets,
    ratios,
    addedLatencyAt1000,
    steadyState,
    memory,
    tracingCpu,
    targetsMet: {
      'throughput >= 1.4x bare @fastify/http-proxy': (ratios['gateway/bare-proxy'] ?? 0) >= 1.4,
      'throughput >= 0.75x minimal forwarder': (ratios['gateway/minimal-forwarder'] ?? 0) >= 0.75,
      'added p50 <= 0.5 ms at 1,000 req/s': addedLatencyAt1000.p50Ms <= 0.5,
      'added p99 <= 2 ms at 1,000 req/s': addedLatencyAt1000.p99Ms <= 2,
      'zero token and MLOps calls in steady state': steadyState.tokenCalls === 0 && steadyState.mlopsCalls === 0,
      'RSS flat while 200 MB streams through (< +64 MB)': memory.rssPeakDuring200MbMb - memory.rssBefore200MbMb < 64,
    },
  };
}

/** `npm run bench tracing`: only the tracing CPU figures (the upstream stub and three gateways). */
export async function benchTracing(): Promise<TracingCpuResult> {
  if (TASKSET) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  buildAll();
  const upstream = await startServer([process.execPath, `${SERVERS}/upstream.js`]);
  const children: ChildProcess[] = [upstream.child];
  const work = mkdtempSync(join(tmpdir(), 'bench-tracing-'));
  try {
    return await benchTracingCpu(upstream.port, work, children);
  } finally {
    await Promise.all(children.map(stop));
    rmSync(work, { recursive: true, force: true });
  }
}

export function printProxies(result: ProxyBenchResult): void {
  console.log(`\nProxy overhead: ${result.connections} connections, ${result.bodyBytes} B pandas-records body, servers ${result.pinned ? 'on CPU 0, load on CPU 1' : 'unpinned (no taskset)'}`);
  console.log(`  ${'target'.padEnd(28)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}   @1000/s ${'p50'.padStart(5)} ${'p99'.padStart(5)}  errors  CPU us/req`);
  for (const target of result.targets) {
    if (target.skipped) {
      console.log(`  ${target.name.padEnd(28)} skipped: ${target.skipped}`);
      continue;
    }
    const s = target.saturation!;
    const f = target.fixedRate!;
    console.log(`  ${target.name.padEnd(28)} ${s.rps.toFixed(0).padStart(8)} ${s.p50.toFixed(2).padStart(7)} ${s.p99.toFixed(2).padStart(7)}           ${f.p50.toFixed(2).padStart(5)} ${f.p99.toFixed(2).padStart(5)}  ${String(s.errors + s.non2xx + f.errors + f.non2xx).padStart(6)}  ${s.cpuUsPerRequest === undefined ? '' : s.cpuUsPerRequest.toFixed(0).padStart(10)}`);
  }
  for (const [name, value] of Object.entries(result.ratios)) console.log(`  ${name.padEnd(28)} ${value === null ? 'n/a' : `${value.toFixed(2)}x`}`);
  if (result.addedLatencyAt1000) console.log(`  added latency at 1,000 req/s vs direct: p50 ${result.addedLatencyAt1000.p50Ms.toFixed(2)} ms, p99 ${result.addedLatencyAt1000.p99Ms.toFixed(2)} ms`);
  console.log(`  steady state: ${result.steadyState.tokenCalls} token calls, ${result.steadyState.mlopsCalls} MLOps calls`);
  const m = result.memory;
  console.log(`  gateway RSS: ${m.rssAfterLoadMb.toFixed(0)} MB after the load run; ${m.rssBefore200MbMb.toFixed(0)} -> peak ${m.rssPeakDuring200MbMb.toFixed(0)} MB while a 200 MB body streamed through (status ${m.uploadStatus})`);
  const cpu = result.tracingCpu;
  console.log(`  gateway CPU per request: ${Object.entries(cpu.cpuMicrosPerRequest).map(([name, us]) => `${name} ${us} us`).join(', ')}` +
    ` (added: ${Object.entries(cpu.addedMicros).map(([name, us]) => `${name} +${us} us`).join(', ')}; ${cpu.requests} requests)`);
  for (const [name, outcomes] of Object.entries(cpu.spans)) {
    if (Object.keys(outcomes).length) console.log(`  ${name} spans: ${Object.entries(outcomes).map(([outcome, n]) => `${n} ${outcome}`).join(', ')}`);
  }
  for (const [target, met] of Object.entries(result.targetsMet)) console.log(`  target ${met ? 'met    ' : 'NOT met'}  ${target}`);
}
