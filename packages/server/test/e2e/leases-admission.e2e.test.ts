import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LeaseGrantSchema, type LeaseGrant } from '@sync-engine/shared';
import {
  describeEachCoordinationStore,
  startCoordinatedServer,
  useCoordinatedServer,
} from '../support/coordination-fixtures.ts';
import { uniqueUser } from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import type { TestServer } from '../support/test-server.ts';

type Client = Pick<TestServer, 'request'>;

async function lease(server: Client, user: string, kind = 'catalog_sync'): Promise<LeaseGrant> {
  const answer = await server.request<LeaseGrant>('POST', '/api/v1/sync/lease', {
    user,
    body: { kind },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return LeaseGrantSchema.strict().parse(answer.body);
}

function catalogPull(server: Client, user: string, leaseId: string) {
  return server.request<{ error?: { code: string } }>(
    'GET',
    `/api/v1/sync/changes?scope=catalog&leaseId=${encodeURIComponent(leaseId)}`,
    { user },
  );
}

/** A 429 as the contract says: RATE_LIMIT_EXCEEDED with Retry-After in whole seconds ≥ 1. */
function expectRateLimited(
  answer: { status: number; headers: Headers; body: { error?: { code: string } } },
  maxSeconds = 60,
): number {
  expect(answer.status).toBe(429);
  expect(answer.body.error?.code).toBe('RATE_LIMIT_EXCEEDED');
  const retryAfter = answer.headers.get('retry-after');
  expect(retryAfter).toMatch(/^[0-9]+$/);
  const seconds = Number(retryAfter);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(maxSeconds);
  return seconds;
}

describeEachDatabase('leases', (target) => {
  describeEachCoordinationStore('admission control', (store) => {
    const env = {
      LEASE_WINDOW_MS: '60000',
      LEASE_MAX_REQUESTS: '10',
      LEASE_USER_PER_MINUTE: '3',
      LEASE_GLOBAL_PER_MINUTE: '1000',
    };
    const server = useCoordinatedServer(target, store, { env });

    it('grants a lease (201) that admits exactly maxRequests catalog pulls, then 429 with Retry-After', async () => {
      const user = uniqueUser('exhaust');
      const before = Date.now();
      const grant = await lease(server(), user);
      expect(grant).toMatchObject({ kind: 'catalog_sync', leaseWindowMs: 60_000, maxRequests: 10 });
      expect(Date.parse(grant.expiresAt)).toBeGreaterThanOrEqual(before + 60_000 - 1000);
      expect(Date.parse(grant.expiresAt)).toBeLessThanOrEqual(Date.now() + 60_000 + 1000);
      for (let i = 0; i < 10; i++)
        expect((await catalogPull(server(), user, grant.leaseId)).status).toBe(200);
      const seconds = expectRateLimited(await catalogPull(server(), user, grant.leaseId));
      // Exhausted: wait for the lease window, which has most of its minute left.
      expect(seconds).toBeGreaterThan(30);
    });

    it('never lets more than maxRequests of one lease through 50 parallel requests', async () => {
      const user = uniqueUser('parallel');
      const grant = await lease(server(), user);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => catalogPull(server(), user, grant.leaseId)),
      );
      expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused).toHaveLength(40);
      for (const a of refused) expectRateLimited(a);
    });

    it("refuses another user's lease with 429 and consumes nothing of it", async () => {
      const owner = uniqueUser('owner');
      const thief = uniqueUser('thief');
      const grant = await lease(server(), owner);
      for (let i = 0; i < 3; i++)
        expectRateLimited(await catalogPull(server(), thief, grant.leaseId));
      for (let i = 0; i < 10; i++)
        expect((await catalogPull(server(), owner, grant.leaseId)).status).toBe(200);
      expectRateLimited(await catalogPull(server(), owner, grant.leaseId));
    });

    it('refuses an unknown lease (429) and a catalog pull without one (400 LEASE_REQUIRED)', async () => {
      const user = uniqueUser('unknown');
      expectRateLimited(await catalogPull(server(), user, 'no-such-lease'));
      const missing = await server().request<{ error: { code: string } }>(
        'GET',
        '/api/v1/sync/changes?scope=catalog',
        { user },
      );
      expect(missing.status).toBe(400);
      expect(missing.body.error.code).toBe('LEASE_REQUIRED');
    });

    it('refuses a lease of another kind (429)', async () => {
      const user = uniqueUser('kind');
      const grant = await lease(server(), user, 'health_upload');
      expect(grant.kind).toBe('health_upload');
      expectRateLimited(await catalogPull(server(), user, grant.leaseId));
    });

    it('limits leases per user per minute (429 + Retry-After), other users unaffected', async () => {
      const user = uniqueUser('greedy');
      for (let i = 0; i < 3; i++) await lease(server(), user);
      const refused = await server().request<{ error: { code: string } }>(
        'POST',
        '/api/v1/sync/lease',
        { user, body: { kind: 'catalog_sync' } },
      );
      expectRateLimited(refused);
      await lease(server(), uniqueUser('modest'));
    });

    it('validates the request body', async () => {
      const user = uniqueUser('bad');
      for (const body of [{}, { kind: 'everything' }]) {
        const answer = await server().request<{ error: { code: string } }>(
          'POST',
          '/api/v1/sync/lease',
          { user, body },
        );
        expect(answer.status).toBe(400);
        expect(answer.body.error.code).toBe('VALIDATION_ERROR');
      }
      expect(
        (await server().request('POST', '/api/v1/sync/lease', { body: { kind: 'catalog_sync' } }))
          .status,
      ).toBe(401);
    });

    it('a lease stops admitting when its window is over', async () => {
      await using running = await startCoordinatedServer(target, store, {
        env: { LEASE_WINDOW_MS: '1000', LEASE_MAX_REQUESTS: '100' },
      });
      const user = uniqueUser('expiry');
      const grant = await lease(running.server, user);
      expect(grant.leaseWindowMs).toBe(1000);
      expect((await catalogPull(running.server, user, grant.leaseId)).status).toBe(200);
      await sleep(1200);
      expectRateLimited(await catalogPull(running.server, user, grant.leaseId));
    });

    it('limits leases globally per minute, across users', async () => {
      await using running = await startCoordinatedServer(target, store, {
        env: { LEASE_GLOBAL_PER_MINUTE: '3', LEASE_USER_PER_MINUTE: '2' },
      });
      await lease(running.server, uniqueUser('a'));
      await lease(running.server, uniqueUser('b'));
      const c = uniqueUser('c');
      await lease(running.server, c);
      expectRateLimited(
        await running.server.request('POST', '/api/v1/sync/lease', {
          user: uniqueUser('d'),
          body: { kind: 'catalog_sync' },
        }),
      );
      expectRateLimited(
        await running.server.request('POST', '/api/v1/sync/lease', {
          user: c,
          body: { kind: 'catalog_sync' },
        }),
      );
    });
  });
});

describe('lease configuration', () => {
  it('rejects a bad LEASE_* value at start-up with one clear line', async () => {
    const { loadConfig } = await import('../../src/config/env.ts');
    expect(() => loadConfig({ LEASE_MAX_REQUESTS: '0' })).toThrow(
      /LEASE_MAX_REQUESTS must be an integer/,
    );
    expect(() => loadConfig({ LEASE_WINDOW_MS: 'soon' })).toThrow(/LEASE_WINDOW_MS/);
    expect(loadConfig({})).toMatchObject({
      leaseWindowMs: 60_000,
      leaseMaxRequests: 100,
      leaseGlobalPerMinute: 1000,
      leaseUserPerMinute: 10,
    });
  });
});
