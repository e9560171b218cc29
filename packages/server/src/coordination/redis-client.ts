import { Redis } from 'ioredis';

/**
 * The one Redis client of an instance (leases, publishing; the fan-out duplicates it for its
 * subscription). A command fails within a few seconds while Redis is unreachable instead
 * of queueing forever, so requests answer 503 and /health reports `down` rather than hang;
 * the client keeps reconnecting in the background.
 */
export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    commandTimeout: 3000,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
