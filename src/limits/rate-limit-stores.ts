import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';

// Fixed-window counters behind @fastify/rate-limit, implementing its documented custom-store interface
// (`incr(key, callback, timeWindow, max)` and `child(routeOptions)`), so nothing reaches into the plugin's
// internal files. In memory (bounded LRU) for one replica, or in Redis shared by every replica (the real
// budget: memory stores multiply a limit by the replica count).

export interface WindowCount {
  current: number;
  /** Milliseconds until the window ends. */
  ttl: number;
}
export type StoreCallback = (error: Error | null, result?: WindowCount) => void;

export interface RateLimitStore {
  incr(key: string, callback: StoreCallback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): RateLimitStore;
}

export class MemoryWindowStore implements RateLimitStore {
  private readonly windows: LRUCache<string, { count: number; endsAt: number }>;

  constructor(maxKeys: number, private readonly now: () => number = Date.now) {
    this.windows = new LRUCache({ max: maxKeys });
  }

  incr(key: string, callback: StoreCallback, timeWindow: number): void {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + timeWindow };
      this.windows.set(key, window);
    }
    window.count++;
    callback(null, { current: window.count, ttl: window.endsAt - now });
  }

  child(): RateLimitStore {
    return this;
  }
}

// INCR, and start the window's expiry on its first request; one round trip, atomic.
const INCR_WINDOW = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}
`;

/**
 * The script's answer, if it is one: [count >= 1, ttl within the window], both integers. Anything else (a Redis, or
 * something posing as one, that answers a number, nil, strings or nonsense counts) is a store failure, so
 * `failOpen` decides; taken as it came, it crashed the process or admitted every request with NaN remaining.
 */
function windowCount(answer: unknown, timeWindow: number): WindowCount | null {
  if (!Array.isArray(answer) || answer.length !== 2) return null;
  const [current, ttl] = answer as unknown[];
  if (!Number.isSafeInteger(current) || (current as number) < 1) return null;
  if (!Number.isSafeInteger(ttl) || (ttl as number) < 0 || (ttl as number) > timeWindow) return null;
  return { current: current as number, ttl: ttl as number };
}

function describe(answer: unknown): string {
  try {
    return (JSON.stringify(answer) ?? String(answer)).slice(0, 64);
  } catch {
    return typeof answer;
  }
}

export class RedisWindowStore implements RateLimitStore {
  /** `client()` is read at each call: the connection is made at start, after the store exists. */
  constructor(private readonly client: () => Redis | null, private readonly prefix: string) {}

  incr(key: string, callback: StoreCallback, timeWindow: number): void {
    const client = this.client();
    if (!client) {
      callback(new Error('the Redis connection is not started'));
      return;
    }
    client.eval(INCR_WINDOW, 1, `${this.prefix}${key}`, String(timeWindow)).then(
      (answer) => {
        const count = windowCount(answer, timeWindow);
        if (count) callback(null, count);
        else callback(new Error(`Redis answered the window count with ${describe(answer)}, not [count >= 1, ttl]`));
      },
      (error: Error) => callback(error),
    );
  }

  child(): RateLimitStore {
    return this;
  }
}
