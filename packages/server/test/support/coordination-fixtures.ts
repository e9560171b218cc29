import { afterAll, beforeAll } from 'vitest';
import { describe } from 'vitest';
import type { DatabaseTestTarget } from './test-database.ts';
import {
  createTestRedis,
  REDIS_SKIP_REASON,
  TEST_REDIS_URL,
  type TestRedis,
} from './test-redis.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server.ts';

/** Where leases, counters and realtime fan-out live. */
export type CoordinationStore = 'in-process' | 'redis';

/**
 * Declares the suite once per coordination adapter: in-process always, Redis too when
 * TEST_REDIS_URL is set (otherwise a skipped block says why).
 */
export function describeEachCoordinationStore(
  name: string,
  fn: (store: CoordinationStore) => void,
): void {
  describe(`${name} [in-process]`, () => fn('in-process'));
  describe.skipIf(TEST_REDIS_URL === undefined)(
    `${name} [redis]${TEST_REDIS_URL === undefined ? ` (${REDIS_SKIP_REASON})` : ''}`,
    () => fn('redis'),
  );
}

export interface CoordinatedServer extends AsyncDisposable {
  readonly server: TestServer;
  /** The Redis of the server (store `redis` only), under its own key prefix. */
  readonly redis: TestRedis | undefined;
  close(): Promise<void>;
}

/** A test server whose coordination goes through `store`; with Redis, under a fresh key prefix. */
export async function startCoordinatedServer(
  target: DatabaseTestTarget,
  store: CoordinationStore,
  options: Omit<TestServerOptions, 'target'> = {},
): Promise<CoordinatedServer> {
  const redis = store === 'redis' ? await createTestRedis('server') : undefined;
  try {
    const server = await startTestServer({
      target,
      ...options,
      env: { ...options.env, ...(redis ? { REDIS_KEY_PREFIX: redis.prefix } : {}) },
      deps: { ...options.deps, ...(redis ? { redis: redis.redis } : {}) },
    });
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= server.close().finally(() => redis?.close());
      return closing;
    };
    return { server, redis, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await redis?.close();
    throw err;
  }
}

/** One coordinated server for the tests of the enclosing describe block. */
export function useCoordinatedServer(
  target: DatabaseTestTarget,
  store: CoordinationStore,
  options: Omit<TestServerOptions, 'target'> = {},
): () => TestServer {
  let running: CoordinatedServer | undefined;
  beforeAll(async () => {
    running = await startCoordinatedServer(target, store, options);
  });
  afterAll(async () => {
    await running?.close();
  });
  return () => {
    if (!running) throw new Error('the coordinated server is not started');
    return running.server;
  };
}
