import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { call } from './http.ts';

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
 * Added to the allowance: scheduler and GC pauses of a loaded 2-core machine (idle stalls of 10-80 ms were seen
 * with five test suites running). The code before the budgets stalled 6 to 60 seconds on these bodies.
 */
export const STALL_NOISE_MS = 250;
/** Peak RSS growth allowed, as a multiple of server.bodyLimit. */
export const MEMORY_RATIO = 8;

export interface Watched<T> {
  value: T;
  /** Longest event-loop delay seen while `action` ran. */
  stallMs: number;
  /** Peak RSS of the process after `action` minus its RSS before. */
  rssGrowth: number;
  /** /healthz statuses, polled one after another while `action` ran. */
  health: number[];
}

/** Runs `action` while watching this process's event loop and memory and polling the gateway's /healthz. */
export async function watchGateway<T>(gatewayUrl: string, action: () => Promise<T>): Promise<Watched<T>> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const rssBefore = process.memoryUsage.rss();
  const health: number[] = [];
  let done = false;
  histogram.enable();
  const poll = (async () => {
    do health.push((await call(`${gatewayUrl}/healthz`)).status);
    while (!done);
  })();
  try {
    const value = await action();
    done = true;
    await poll;
    return { value, stallMs: histogram.max / 1e6, rssGrowth: process.resourceUsage().maxRSS * 1024 - rssBefore, health };
  } finally {
    done = true;
    histogram.disable();
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
  assert.ok(watched.stallMs <= allowedMs, `the event loop stalled ${watched.stallMs.toFixed(1)} ms; JSON.parse of ${bodyBytes} bytes takes ${parseMs.toFixed(1)} ms (allowed ${allowedMs.toFixed(0)} ms)`);
  assert.ok(watched.rssGrowth <= MEMORY_RATIO * bodyLimit, `memory grew ${(watched.rssGrowth / 2 ** 20).toFixed(0)} MiB, more than ${MEMORY_RATIO} x the ${(bodyLimit / 2 ** 20).toFixed(0)} MiB body limit`);
  assert.ok(watched.health.length > 0, '/healthz was polled');
  assert.deepEqual(new Set(watched.health), new Set([200]), '/healthz kept answering 200');
}
