import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { type Answer, call } from './http.ts';

/**
 * The principle of issue 15, measured: while a hostile request is handled, the gateway (in this process) must
 * not block its event loop much longer than JSON.parse of as many bytes would, must not grow its memory beyond a
 * small multiple of its body limit, and /healthz must keep answering. Gateways watched this way run with
 * `server.maxEventLoopDelayMs: 0`: the test builds its bodies on the same event loop, and load shedding would
 * otherwise answer the hostile request 503 before the budgets are reached.
 */

/** Longest event-loop stall allowed, as a multiple of JSON.parse of the same byte count. */
export const STALL_RATIO = 10;
/**
 * Added to the allowance: GC pauses and timer granularity. Stalls are measured in CPU time (below), so a process
 * the scheduler leaves waiting on a loaded machine is not counted. The code before the budgets stalled 6 to 60
 * seconds on these bodies.
 */
export const STALL_NOISE_MS = 250;
/** Peak RSS growth allowed, as a multiple of server.bodyLimit. */
export const MEMORY_RATIO = 8;

export interface Watched<T> {
  value: T;
  /**
   * Longest event-loop stall while `action` ran, in CPU time: the process's CPU time between two consecutive
   * ticks of a 1 ms timer. Wall-clock gaps also count the time a loaded machine does not schedule the process
   * (gaps of 300-500 ms were seen at load 15 with nothing hostile running); CPU time counts only work.
   */
  stallMs: number;
  /** Longest wall-clock gap between two ticks, for the message. */
  wallStallMs: number;
  /** Peak RSS of the process after `action` minus its RSS before. */
  rssGrowth: number;
  /** /healthz statuses, polled one after another while `action` ran. */
  health: number[];
}

/** Runs `action` while watching this process's event loop and memory and polling the gateway's /healthz. */
export async function watchGateway<T>(gatewayUrl: string, action: () => Promise<T>): Promise<Watched<T>> {
  const rssBefore = process.memoryUsage.rss();
  const health: number[] = [];
  let done = false;
  let stallMs = 0;
  let wallStallMs = 0;
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  let ticker: NodeJS.Timeout | undefined;
  const tick = () => {
    const wall = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    stallMs = Math.max(stallMs, (cpu.user + cpu.system) / 1000);
    wallStallMs = Math.max(wallStallMs, wall - lastWall);
    lastWall = wall;
    lastCpu = process.cpuUsage();
    if (!done) ticker = setTimeout(tick, 1);
  };
  ticker = setTimeout(tick, 1);
  const poll = (async () => {
    do health.push((await call(`${gatewayUrl}/healthz`)).status);
    while (!done);
  })();
  try {
    const value = await action();
    done = true;
    await poll;
    tick(); // the gap since the last tick counts too
    return { value, stallMs, wallStallMs, rssGrowth: process.resourceUsage().maxRSS * 1024 - rssBefore, health };
  } finally {
    done = true;
    clearTimeout(ticker);
  }
}

/** Milliseconds JSON.parse takes for a JSON text of about `bytes` bytes of numbers (like a tensor): median of three. */
export function jsonParseMs(bytes: number): number {
  const text = `[${'0.1234567,'.repeat(Math.max(0, Math.floor((bytes - 3) / 10)))}1]`;
  const samples = [0, 1, 2].map(() => {
    const started = performance.now();
    JSON.parse(text);
    return performance.now() - started;
  });
  return samples.sort((a, b) => a - b)[1]!;
}

/** Asserts the principle for one watched request whose body had `bodyBytes` bytes, under `bodyLimit`. */
export function assertStayedResponsive(watched: Watched<unknown>, bodyBytes: number, bodyLimit: number): void {
  const parseMs = jsonParseMs(bodyBytes);
  const allowedMs = STALL_RATIO * parseMs + STALL_NOISE_MS;
  assert.ok(watched.stallMs <= allowedMs, `the event loop stalled ${watched.stallMs.toFixed(1)} ms of CPU (${watched.wallStallMs.toFixed(1)} ms of wall time); JSON.parse of ${bodyBytes} bytes takes ${parseMs.toFixed(1)} ms (allowed ${allowedMs.toFixed(0)} ms)`);
  assert.ok(watched.rssGrowth <= MEMORY_RATIO * bodyLimit, `memory grew ${(watched.rssGrowth / 2 ** 20).toFixed(0)} MiB, more than ${MEMORY_RATIO} x the ${(bodyLimit / 2 ** 20).toFixed(0)} MiB body limit`);
  assert.ok(watched.health.length > 0, '/healthz was polled');
  assert.deepEqual(new Set(watched.health), new Set([200]), '/healthz kept answering 200');
}

/** How a hostile request must be refused: the contract's error body, whose `error` is the status's own text. */
export interface Refusal {
  statusCode: number;
  code: string;
  message: string;
}

/** Asserts a watched hostile request got exactly `refusal`, with the gateway holding to the principle meanwhile. */
export function assertRefusedResponsively(watched: Watched<Answer>, refusal: Refusal, bodyBytes: number, bodyLimit: number): void {
  assert.equal(watched.value.status, refusal.statusCode, watched.value.text);
  assert.deepEqual(watched.value.json(), { ...refusal, error: STATUS_CODES[refusal.statusCode] });
  assertStayedResponsive(watched, bodyBytes, bodyLimit);
}
