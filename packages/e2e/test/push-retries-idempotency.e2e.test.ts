import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SyncNetworkError, type FetchFunction } from '@sync-engine/client';
import { createSqliteStore } from '@sync-engine/client/sqlite';
import {
  describeEachDatabase,
  startTestServer,
  type TestServer,
} from '@sync-engine/server/testing';
import { openDevice, serverStateOf, E2E_TIMEOUT_MS } from './devices.ts';

/*
 * A push is safe to retry because it keeps its syncOperationId: an answer lost on the way
 * back, a push left unanswered across an app restart, and a 409 from a push of the same
 * device still running all end with each change applied exactly once.
 */

interface Seen {
  readonly status: number;
  readonly replayed: string | null;
  readonly syncOperationId: string | undefined;
}

/** fetch that records push answers and may drop the first `lose` of them after the server acted. */
function recordingFetch(options: { lose?: number; onPush?: (seen: Seen) => void } = {}) {
  let lose = options.lose ?? 0;
  const pushes: Seen[] = [];
  const fetchFn: FetchFunction = async (input, init) => {
    const response = await fetch(input, init);
    if (!input.includes('/sync/push')) return response;
    const body =
      typeof init.body === 'string' ? (JSON.parse(init.body) as { syncOperationId?: string }) : {};
    const seen = {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      syncOperationId: body.syncOperationId,
    };
    pushes.push(seen);
    options.onPush?.(seen);
    if (lose > 0) {
      lose--;
      await response.arrayBuffer();
      throw new TypeError('fetch failed (answer lost)');
    }
    return response;
  };
  return { fetchFn, pushes };
}

describeEachDatabase('push retries', (target) => {
  let server: TestServer;
  const waiting = new Map<string, () => Promise<void>>();
  const dir = mkdtempSync(path.join(tmpdir(), 'sync-e2e-'));
  beforeAll(async () => {
    server = await startTestServer({
      target,
      // A 409's Retry-After is the time left on the holder's lock: keep it short here.
      env: { SYNC_LOCK_STALE_MS: '2000' },
      testHooks: { beforeCommit: async ({ syncOperationId }) => waiting.get(syncOperationId)?.() },
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'a lost answer is retried under the same syncOperationId and replayed, not applied twice',
    { timeout: E2E_TIMEOUT_MS },
    async () => {
      const user = 'lost-answer';
      const { fetchFn, pushes } = recordingFetch({ lose: 1 });
      const device = openDevice(server, user, 'phone', { fetch: fetchFn });
      const product = await device.create('products', { name: 'Chamomile' });
      await device.create('sessions', { productId: product.id });
      const report = await device.sync();

      expect(pushes.map((p) => [p.status, p.replayed])).toEqual([
        [200, null],
        [200, 'true'],
      ]);
      expect(new Set(pushes.map((p) => p.syncOperationId)).size).toBe(1);
      expect(report.push.applied).toBe(2);
      const state = await serverStateOf(server, user);
      expect([state.get('products')?.size, state.get('sessions')?.size]).toEqual([1, 1]);
      expect(
        (await device.get('sessions', (await device.list('sessions'))[0]?.id ?? ''))?.data[
          'productId'
        ],
      ).toBe([...(state.get('products')?.keys() ?? [])][0]);
      await device.close();
    },
  );

  it(
    'a push unanswered through every retry is resent by the next sync after a restart, and applied once',
    { timeout: E2E_TIMEOUT_MS },
    async () => {
      const user = 'restart';
      const filename = path.join(dir, `${target.driver}-phone.db`);
      const flaky = recordingFetch({ lose: 100 });
      const before = openDevice(server, user, 'phone', {
        store: createSqliteStore({ filename }),
        fetch: flaky.fetchFn,
      });
      await before.create('goals', { name: 'Run', targetValue: 5, currentValue: 1 });
      await expect(before.sync()).rejects.toBeInstanceOf(SyncNetworkError);
      await before.close();

      // The app starts again with the same database file and a working network.
      const steady = recordingFetch();
      const after = openDevice(server, user, 'phone', {
        store: createSqliteStore({ filename }),
        fetch: steady.fetchFn,
      });
      await after.sync();
      expect(steady.pushes).toHaveLength(1);
      expect(steady.pushes[0]).toMatchObject({
        status: 200,
        replayed: 'true',
        syncOperationId: flaky.pushes[0]?.syncOperationId,
      });
      const state = await serverStateOf(server, user);
      expect(state.get('goals')?.size).toBe(1);
      const [goal] = await after.list('goals');
      expect(goal?.version).toBe(1);
      expect(state.get('goals')?.has(goal?.id ?? '')).toBe(true);
      await after.close();
    },
  );

  it(
    'a 409 from a push of the same device still running is waited out and retried',
    { timeout: E2E_TIMEOUT_MS },
    async () => {
      const user = 'busy';
      const longOp = '6b1f7a52-8c1e-4d7a-9a3e-0f2c5d4b3a21';
      let saw409!: () => void;
      const conflictSeen = new Promise<void>((resolve) => (saw409 = resolve));
      let started!: () => void;
      const longStarted = new Promise<void>((resolve) => (started = resolve));
      // Hold the long push's first batch: on PostgreSQL until the other push was refused; on
      // PGlite (one connection) briefly, so the other push runs between two of its batches.
      waiting.set(longOp, async () => {
        started();
        if (target.driver === 'postgres') await Promise.race([conflictSeen, sleep(10_000)]);
        else await sleep(150);
      });

      const long = openDevice(server, user, 'tablet', { ids: { syncOperationId: () => longOp } });
      for (let i = 0; i < 250; i++) await long.create('products', { name: `bulk ${i}` });
      const other = recordingFetch({ onPush: (seen) => seen.status === 409 && saw409() });
      // A second app instance on the same device (its own store), e.g. a widget.
      const widget = openDevice(server, user, 'tablet', { fetch: other.fetchFn });
      await widget.create('goals', { name: 'Walk', targetValue: 1, currentValue: 0 });

      const longSync = long.sync();
      await longStarted;
      await widget.sync();
      await longSync;

      expect(other.pushes.map((p) => p.status)).toEqual([409, 200]);
      const state = await serverStateOf(server, user);
      expect([state.get('products')?.size, state.get('goals')?.size]).toEqual([250, 1]);
      await long.close();
      await widget.close();
    },
  );
});
