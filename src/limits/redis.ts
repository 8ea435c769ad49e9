import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { oncePer } from '../http/once-per.ts';

// The Redis client for shared rate limits. Short command timeout and no offline queue: while Redis is down,
// commands fail at once instead of queueing, so requests are never held by an outage (fastify-rate-limit#84).
// Created unconnected (the URL is a secret, read at start), it keeps reconnecting in the background.

/** How long start-up waits for Redis before serving without it. */
const STARTUP_WAIT_MS = 5_000;

export interface RedisConnection {
  /** Null until `connect`. */
  readonly client: Redis | null;
  connect(url: string): Promise<void>;
  close(): Promise<void>;
}

export function createRedisClient(commandTimeoutMs: number, logger: Logger): RedisConnection {
  let client: Redis | null = null;
  const shouldLog = oncePer(5_000);
  const connection: RedisConnection = {
    get client() {
      return client;
    },
    connect: async (url) => {
      // Loaded here: ioredis costs about a quarter of a second of CPU at every start that has no Redis store.
      const { Redis } = await import('ioredis');
      client = new Redis(url, {
        enableOfflineQueue: false,
        commandTimeout: commandTimeoutMs,
        connectTimeout: Math.max(500, commandTimeoutMs * 5),
        maxRetriesPerRequest: 0,
        retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      });
      client.on('error', (error: Error) => {
        if (shouldLog()) logger.warn({ reason: error.message }, 'redis connection error');
      });
      // Start serving once connected, or after a few seconds with Redis still down (the store's failOpen policy
      // then decides, as during any outage): a down Redis never blocks start-up for long.
      const ready = client;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STARTUP_WAIT_MS);
        ready.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close: async () => {
      if (client) await client.quit().catch(() => client?.disconnect());
    },
  };
  return connection;
}
