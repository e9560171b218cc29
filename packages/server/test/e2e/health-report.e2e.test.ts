import { describe, expect, it } from 'vitest';
import { HealthReportSchema, type HealthReport, type SyncWsEvent } from '@sync-engine/shared';
import { createRedisClient } from '../../src/coordination/redis-client.ts';
import { createDatabase } from '../../src/db/database.ts';
import {
  describeEachCoordinationStore,
  useCoordinatedServer,
} from '../support/coordination-fixtures.ts';
import { create, eventually, pushOk, uniqueUser } from '../support/push-fixtures.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import {
  createTestDatabase,
  describeEachDatabase,
  TEST_DATABASE_URL,
} from '../support/test-database.ts';
import { createTestRedis, REDIS_SKIP_REASON, TEST_REDIS_URL } from '../support/test-redis.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { openSocket } from '../support/ws-client.ts';

async function health(
  server: Pick<TestServer, 'request'>,
): Promise<{ status: number; report: HealthReport }> {
  const answer = await server.request<HealthReport>('GET', '/api/v1/sync/health', { user: 'sre' });
  return { status: answer.status, report: HealthReportSchema.parse(answer.body) };
}

describeEachDatabase('GET /sync/health', (target) => {
  describeEachCoordinationStore('with every dependency up', (store) => {
    const server = useCoordinatedServer(target, store);

    it('answers 200 ok with the database, cache, leases and outbox checks', async () => {
      const { status, report } = await health(server());
      expect(status).toBe(200);
      expect(report).toEqual({
        status: 'ok',
        checks: {
          database: { status: 'ok', latencyMs: expect.any(Number) as unknown },
          cache:
            store === 'redis'
              ? { status: 'ok', mode: 'redis', latencyMs: expect.any(Number) as unknown }
              : { status: 'ok', mode: 'in-process' },
          leases: { status: 'ok', store },
          outbox: { status: 'ok', backlog: expect.any(Number) as unknown, deadLetters: 0 },
          realtime: { status: 'ok', transport: store },
        },
      });
      expect((await server().request('GET', '/api/v1/sync/health')).status).toBe(401);
    });
  });
});

describe.skipIf(TEST_REDIS_URL === undefined)(
  `GET /sync/health with Redis down${TEST_REDIS_URL === undefined ? ` (${REDIS_SKIP_REASON})` : ''}`,
  () => {
    it('answers 503 degraded, refuses leases with 503, and recovers — events held meanwhile are delivered', async () => {
      const redisUrl = new URL(TEST_REDIS_URL ?? '');
      await using proxy = await startTcpProxy({
        host: redisUrl.hostname,
        port: Number(redisUrl.port || 6379),
      });
      await using keys = await createTestRedis('redis-down');
      const proxied = createRedisClient(`redis://127.0.0.1:${proxy.port}`);
      try {
        await using server = await startTestServer({
          env: {
            REDIS_KEY_PREFIX: keys.prefix,
            OUTBOX_RETRY_BASE_MS: '100',
            OUTBOX_RETRY_MAX_MS: '300',
            OUTBOX_MAX_ATTEMPTS: '100',
          },
          deps: { redis: proxied },
        });
        expect((await health(server)).status).toBe(200);
        const user = uniqueUser('redis-down');
        await using socket = await openSocket(server.url, {
          token: await server.token(user),
          deviceId: 'dev-2',
        });

        await proxy.cut();
        const down = await health(server);
        expect(down.status).toBe(503);
        expect(down.report.status).toBe('degraded');
        expect(down.report.checks.database.status).toBe('ok');
        expect(down.report.checks.cache).toMatchObject({ status: 'down', mode: 'redis' });
        expect(down.report.checks.leases.status).toBe('down');
        expect(down.report.checks['realtime']).toMatchObject({
          status: 'down',
          transport: 'redis',
        });
        const started = Date.now();
        const lease = await server.request<{ error: { code: string } }>(
          'POST',
          '/api/v1/sync/lease',
          { user, body: { kind: 'catalog_sync' } },
        );
        expect(lease.status).toBe(503);
        expect(lease.body.error.code).toBe('UNAVAILABLE');
        expect(lease.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
        expect(Date.now() - started).toBeLessThan(5000);

        // Pushes still work; their realtime events wait in the outbox for Redis.
        await pushOk(server, user, 'dev-1', [create('products', 'p1', { name: 'Tea' })]);

        await proxy.restore();
        await eventually(
          async () => ((await health(server)).status === 200 ? true : undefined),
          15_000,
          200,
        );
        expect(
          await socket.next((e: SyncWsEvent) => e.type === 'sync:push:completed', 15_000),
        ).toMatchObject({ data: { deviceId: 'dev-1', successful: 1 } });
        expect(
          (
            await server.request('POST', '/api/v1/sync/lease', {
              user,
              body: { kind: 'catalog_sync' },
            })
          ).status,
        ).toBe(201);
      } finally {
        proxied.disconnect();
      }
    });
  },
);

describe.skipIf(TEST_DATABASE_URL === undefined)(
  `GET /sync/health with PostgreSQL down${TEST_DATABASE_URL === undefined ? ' (skipped: TEST_DATABASE_URL is not set)' : ''}`,
  () => {
    it('answers 503 degraded naming the database, then recovers', async () => {
      await using database = await createTestDatabase({ driver: 'postgres' });
      const url = new URL(database.databaseUrl ?? '');
      await using proxy = await startTcpProxy({
        host: url.hostname,
        port: Number(url.port || 5432),
      });
      url.port = String(proxy.port);
      const proxied = await createDatabase({
        databaseUrl: url.toString(),
        dataDir: '.',
        poolSize: 2,
      });
      const close = () => proxied.close();
      await using server = await startTestServer({
        database: {
          db: proxied.db,
          driver: 'postgres',
          databaseUrl: url.toString(),
          close,
          [Symbol.asyncDispose]: close,
        },
      });
      expect((await health(server)).status).toBe(200);
      await proxy.cut();
      const down = await health(server);
      expect(down.status).toBe(503);
      expect(down.report).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'down' }, cache: { status: 'ok' } },
      });
      await proxy.restore();
      await eventually(
        async () => ((await health(server)).status === 200 ? true : undefined),
        15_000,
        200,
      );
      await proxied.close();
    });
  },
);
