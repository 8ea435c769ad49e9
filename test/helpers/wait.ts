import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `predicate` until it holds, at most `timeoutMs` (then fails naming `what`). For effects that have no
 * event to wait on (a counter on another server, a background refresh); never a fixed sleep.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, what: string, timeoutMs = 15_000, intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
