import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** A Redis server for coordination tests; unset → those tests are skipped. */
export const TEST_REDIS_URL: string | undefined =
  process.env['TEST_REDIS_URL']?.trim() || undefined;

/** Why Redis tests did not run, for `describe.skipIf` titles. */
export const REDIS_SKIP_REASON =
  'skipped: TEST_REDIS_URL is not set (CI sets it, e.g. redis://127.0.0.1:6379)';

/** A key prefix no other test (or test run) uses. */
export function uniqueRedisPrefix(label = 'test'): string {
  return `sync-engine-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

export interface TestRedis extends AsyncDisposable {
  readonly redis: Redis;
  readonly prefix: string;
  /** Deletes every key under the prefix and closes the client; idempotent. */
  close(): Promise<void>;
}

/** A client of TEST_REDIS_URL with its own key prefix, cleaned up when disposed. */
export async function createTestRedis(label?: string, url = TEST_REDIS_URL): Promise<TestRedis> {
  if (url === undefined) throw new Error('createTestRedis needs TEST_REDIS_URL');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const prefix = uniqueRedisPrefix(label);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    })();
    return closing;
  };
  return { redis, prefix, close, [Symbol.asyncDispose]: close };
}
