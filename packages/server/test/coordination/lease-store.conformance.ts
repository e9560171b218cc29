import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LeaseIssueRequest, LeaseStore } from '../../src/coordination/lease-store.ts';

export interface LeaseStoreFixture {
  readonly store: LeaseStore;
  close(): Promise<void>;
}

/** Generous limits, so a case only meets the limit it is about. */
function request(overrides: Partial<LeaseIssueRequest> = {}): LeaseIssueRequest {
  return {
    leaseId: randomUUID(),
    userId: 'user-a',
    kind: 'catalog_sync',
    windowMs: 60_000,
    maxRequests: 5,
    globalLimit: 1000,
    userLimit: 1000,
    issueWindowMs: 60_000,
    ...overrides,
  };
}

async function grant(
  store: LeaseStore,
  overrides: Partial<LeaseIssueRequest> = {},
): Promise<LeaseIssueRequest> {
  const r = request(overrides);
  const result = await store.issue(r);
  if (!result.ok) throw new Error(`expected a grant, got ${JSON.stringify(result)}`);
  return r;
}

/**
 * The LeaseStore port's contract (see lease-store.ts), run once per adapter. `open` must
 * return a store isolated from every other test (e.g. a fresh Redis key prefix).
 */
export function describeLeaseStoreConformance(
  name: string,
  open: () => Promise<LeaseStoreFixture>,
): void {
  describe(`LeaseStore conformance: ${name}`, () => {
    let fixture: LeaseStoreFixture;
    let store: LeaseStore;
    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.close();
    });

    it('grants a lease valid for its window', async () => {
      const before = Date.now();
      const result = await store.issue(request({ windowMs: 30_000 }));
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      // Redis dates the lease by its own clock: allow a little skew.
      expect(result.expiresAtMs).toBeGreaterThanOrEqual(before + 30_000 - 1000);
      expect(result.expiresAtMs).toBeLessThanOrEqual(Date.now() + 30_000 + 1000);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('admits exactly maxRequests requests, then refuses as exhausted until the window ends', async () => {
      const lease = await grant(store, { maxRequests: 3, windowMs: 20_000 });
      const remaining: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await store.consume(lease.leaseId, lease.userId, lease.kind);
        expect(r.ok).toBe(true);
        if (r.ok) remaining.push(r.remaining);
      }
      expect(remaining).toEqual([2, 1, 0]);
      const refused = await store.consume(lease.leaseId, lease.userId, lease.kind);
      expect(refused).toMatchObject({ ok: false, reason: 'exhausted' });
      if (!refused.ok) {
        expect(refused.retryAfterMs).toBeGreaterThan(15_000);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(20_000);
      }
    });

    it('refuses an unknown lease', async () => {
      expect(await store.consume(randomUUID(), 'user-a', 'catalog_sync')).toMatchObject({
        ok: false,
        reason: 'unknown',
      });
    });

    it("refuses another user's lease and consumes nothing of it", async () => {
      const lease = await grant(store, { maxRequests: 2 });
      for (let i = 0; i < 5; i++) {
        expect(await store.consume(lease.leaseId, 'user-b', lease.kind)).toMatchObject({
          ok: false,
          reason: 'forbidden',
        });
      }
      expect(await store.consume(lease.leaseId, lease.userId, lease.kind)).toEqual({
        ok: true,
        remaining: 1,
      });
    });

    it('refuses a lease used for another kind and consumes nothing of it', async () => {
      const lease = await grant(store, { maxRequests: 1, kind: 'catalog_sync' });
      expect(await store.consume(lease.leaseId, lease.userId, 'health_upload')).toMatchObject({
        ok: false,
        reason: 'forbidden',
      });
      expect(await store.consume(lease.leaseId, lease.userId, 'catalog_sync')).toEqual({
        ok: true,
        remaining: 0,
      });
    });

    it('stops admitting once the window is over', async () => {
      // Windows long enough that a loaded machine still consumes inside one; short tests.
      const lease = await grant(store, { windowMs: 600, maxRequests: 100 });
      expect((await store.consume(lease.leaseId, lease.userId, lease.kind)).ok).toBe(true);
      await sleep(800);
      expect(await store.consume(lease.leaseId, lease.userId, lease.kind)).toMatchObject({
        ok: false,
        reason: 'unknown',
      });
    });

    it('limits leases per user per issuance window, without touching other users', async () => {
      const limits = { userLimit: 2, issueWindowMs: 10_000 };
      await grant(store, { ...limits, userId: 'user-a' });
      await grant(store, { ...limits, userId: 'user-a' });
      const refused = await store.issue(request({ ...limits, userId: 'user-a' }));
      expect(refused).toMatchObject({ ok: false, limit: 'user' });
      if (!refused.ok) {
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(10_000);
      }
      await grant(store, { ...limits, userId: 'user-b' });
    });

    it('limits leases globally, and a refused request counts against no limit', async () => {
      const limits = { globalLimit: 3, userLimit: 1, issueWindowMs: 10_000 };
      await grant(store, { ...limits, userId: 'user-a' });
      // Refused by the user limit: must not use up global capacity.
      expect(await store.issue(request({ ...limits, userId: 'user-a' }))).toMatchObject({
        ok: false,
        limit: 'user',
      });
      await grant(store, { ...limits, userId: 'user-b' });
      await grant(store, { ...limits, userId: 'user-c' });
      expect(await store.issue(request({ ...limits, userId: 'user-d' }))).toMatchObject({
        ok: false,
        limit: 'global',
      });
    });

    it('opens a new issuance window once the last one is over', async () => {
      const limits = { userLimit: 1, issueWindowMs: 600 };
      await grant(store, limits);
      expect((await store.issue(request(limits))).ok).toBe(false);
      await sleep(800);
      await grant(store, limits);
    });

    it('never admits more than maxRequests of one lease under 50 concurrent requests', async () => {
      const lease = await grant(store, { maxRequests: 10 });
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.consume(lease.leaseId, lease.userId, lease.kind)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      expect(results.filter((r) => !r.ok && r.reason === 'exhausted')).toHaveLength(40);
    });

    it('never grants more than the global limit under concurrent requests', async () => {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.issue(request({ globalLimit: 7, userId: `user-${i}` })),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(7);
    });
  });
}
