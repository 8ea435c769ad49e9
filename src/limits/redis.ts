import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { oncePer } from '../http/once-per.ts';

/**
 * The Redis client for shared rate limits. Short command timeout and no offline queue: while Redis is down,
 * commands fail at once instead of queueing, so requests are never held by an outage (fastify-rate-limit#84).
 * It keeps reconnecting in the background.
 */
export function createRedisClient(url: string, commandTimeoutMs: number, logger: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(500, commandTimeoutMs * 5),
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
  });
  const shouldLog = oncePer(5_000);
  client.on('error', (error: Error) => {
    if (shouldLog()) logger.warn({ reason: error.message }, 'redis connection error');
  });
  return client;
}
