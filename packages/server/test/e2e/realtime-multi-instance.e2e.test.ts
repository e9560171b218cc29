import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LeaseGrantSchema, type SyncWsEvent } from '@sync-engine/shared';
import { createTokenService } from '../../src/http/auth-tokens.ts';
import { create, pushOk, remoteClient, uniqueUser } from '../support/push-fixtures.ts';
import { startServerProcess } from '../support/server-process.ts';
import {
  createTestDatabase,
  describeEachDatabase,
  TEST_DATABASE_URL,
} from '../support/test-database.ts';
import { createTestRedis, REDIS_SKIP_REASON, TEST_REDIS_URL } from '../support/test-redis.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/test-server.ts';
import { openSocket } from '../support/ws-client.ts';

type Client = Pick<TestServer, 'request'>;
const isType =
  (type: SyncWsEvent['type']) =>
  (e: SyncWsEvent): boolean =>
    e.type === type;

/** A socket on B hears a push made through A, exactly once per event. */
async function expectPushHeardAcross(
  a: Client,
  bUrl: string,
  token: string,
  user: string,
): Promise<void> {
  await using onB = await openSocket(bUrl, { token, deviceId: 'dev-b' });
  await using pusherOnB = await openSocket(bUrl, { token, deviceId: 'dev-a' });
  const syncOperationId = randomUUID();
  await pushOk(a, user, 'dev-a', [create('products', 'p1', { name: 'Tea' })], { syncOperationId });
  expect(await onB.next(isType('sync:push:completed'))).toEqual({
    type: 'sync:push:completed',
    data: { syncOperationId, deviceId: 'dev-a', successful: 1, failed: 0, conflicts: 0 },
  });
  expect(await onB.next(isType('sync:changes'))).toEqual({
    type: 'sync:changes',
    data: { entityTypes: ['products'] },
  });
  await pusherOnB.next(isType('sync:push:completed'));
  await sleep(300);
  expect(onB.events).toHaveLength(2);
  expect(pusherOnB.events.map((e) => e.type)).toEqual(['sync:push:completed']);
}

/** A lease granted by A is honoured and counted by B (LEASE_MAX_REQUESTS=3). */
async function expectLeaseSharedAcross(a: Client, b: Client, user: string): Promise<void> {
  const granted = await a.request('POST', '/api/v1/sync/lease', {
    user,
    body: { kind: 'catalog_sync' },
  });
  expect(granted.status).toBe(201);
  const { leaseId, maxRequests } = LeaseGrantSchema.parse(granted.body);
  expect(maxRequests).toBe(3);
  const pull = (via: Client) =>
    via.request('GET', `/api/v1/sync/changes?scope=catalog&leaseId=${leaseId}`, { user });
  expect((await pull(b)).status).toBe(200);
  expect((await pull(a)).status).toBe(200);
  expect((await pull(b)).status).toBe(200);
  const refusedOnB = await pull(b);
  expect(refusedOnB.status).toBe(429);
  expect(refusedOnB.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  expect((await pull(a)).status).toBe(429);
}

describe.skipIf(TEST_REDIS_URL === undefined)(
  `two instances on one database and one Redis${TEST_REDIS_URL === undefined ? ` (${REDIS_SKIP_REASON})` : ''}`,
  () => {
    describeEachDatabase('in one process', (target) => {
      it('share realtime events and leases', async () => {
        await using database = await target.createTestDatabase();
        await using redis = await createTestRedis('two-apps');
        const options = {
          database,
          env: { REDIS_KEY_PREFIX: redis.prefix, LEASE_MAX_REQUESTS: '3' },
          deps: { redis: redis.redis },
        };
        await using a = await startTestServer(options);
        await using b = await startTestServer(options);
        const user = uniqueUser('two-apps');
        await expectPushHeardAcross(a, b.url, await a.token(user), user);
        await expectLeaseSharedAcross(a, b, user);
      });
    });

    describe.skipIf(TEST_DATABASE_URL === undefined)(
      `as two server processes (sync-engine start)${TEST_DATABASE_URL === undefined ? ' (skipped: TEST_DATABASE_URL is not set)' : ''}`,
      () => {
        it('share realtime events and leases, and shut down cleanly', async () => {
          await using database = await createTestDatabase({ driver: 'postgres' });
          await using redis = await createTestRedis('two-processes');
          const env = {
            DATABASE_URL: database.databaseUrl ?? '',
            REDIS_URL: TEST_REDIS_URL ?? '',
            REDIS_KEY_PREFIX: redis.prefix,
            AUTH_JWT_SECRET: TEST_JWT_SECRET,
            LEASE_MAX_REQUESTS: '3',
            DB_POOL_SIZE: '3',
          };
          const [procA, procB] = await Promise.all([
            startServerProcess({ env }),
            startServerProcess({ env }),
          ]);
          await using _a = procA;
          await using _b = procB;
          const tokens = createTokenService(TEST_JWT_SECRET);
          const issue = (userId: string) => tokens.issue(userId);
          const a = remoteClient(procA.url, issue);
          const b = remoteClient(procB.url, issue);
          const user = uniqueUser('two-processes');
          await expectPushHeardAcross(a, procB.url, await issue(user), user);
          await expectLeaseSharedAcross(a, b, user);
          expect(await procA.stop('SIGTERM'), procA.output()).toBe(0);
          expect(await procB.stop('SIGTERM'), procB.output()).toBe(0);
        });
      },
    );
  },
);
