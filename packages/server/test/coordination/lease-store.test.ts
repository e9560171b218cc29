import { describe } from 'vitest';
import { InMemoryLeaseStore } from '../../src/coordination/in-memory-lease-store.ts';
import { RedisLeaseStore } from '../../src/coordination/redis-lease-store.ts';
import { createTestRedis, REDIS_SKIP_REASON, TEST_REDIS_URL } from '../support/test-redis.ts';
import { describeLeaseStoreConformance } from './lease-store.conformance.ts';

describeLeaseStoreConformance('in-process', async () => ({
  store: new InMemoryLeaseStore(),
  close: async () => {},
}));

describe.skipIf(TEST_REDIS_URL === undefined)(
  `redis${TEST_REDIS_URL === undefined ? ` (${REDIS_SKIP_REASON})` : ''}`,
  () => {
    describeLeaseStoreConformance('redis', async () => {
      const redis = await createTestRedis('lease');
      return { store: new RedisLeaseStore(redis.redis, redis.prefix), close: () => redis.close() };
    });
  },
);
