import { describe, expect, it } from 'vitest';
import { InProcessFanOut } from '../../src/coordination/in-process-fan-out.ts';
import { RedisFanOut } from '../../src/coordination/redis-fan-out.ts';
import {
  createTestRedis,
  REDIS_SKIP_REASON,
  TEST_REDIS_URL,
  uniqueRedisPrefix,
} from '../support/test-redis.ts';
import { describeFanOutConformance, type Message } from './fan-out.conformance.ts';

describeFanOutConformance('in-process', { multiInstance: false }, async () => ({
  open: async () => new InProcessFanOut<Message>(),
  close: async () => {},
}));

describe.skipIf(TEST_REDIS_URL === undefined)(
  `redis${TEST_REDIS_URL === undefined ? ` (${REDIS_SKIP_REASON})` : ''}`,
  () => {
    describeFanOutConformance('redis', { multiInstance: true }, async () => {
      const redis = await createTestRedis('fan-out');
      return {
        open: async () => new RedisFanOut<Message>(redis.redis, redis.prefix, 'channel'),
        openIsolated: async () =>
          new RedisFanOut<Message>(redis.redis, uniqueRedisPrefix('other'), 'channel'),
        close: () => redis.close(),
      };
    });
  },
);

describe.skipIf(TEST_REDIS_URL === undefined)(
  `RedisFanOut${TEST_REDIS_URL === undefined ? ` (${REDIS_SKIP_REASON})` : ''}`,
  () => {
    it('rejects a publish nobody is subscribed to, so the outbox retries it instead of losing it', async () => {
      await using redis = await createTestRedis('fan-out-lonely');
      const lonely = new RedisFanOut<Message>(redis.redis, redis.prefix, 'nobody-listens');
      await expect(lonely.publish({ n: 1, text: 'x', nested: { list: [] } })).rejects.toThrow(
        /no instance is subscribed/,
      );
      await expect(lonely.ping()).rejects.toThrow(/not started/);
      await lonely.close();
    });
  },
);
