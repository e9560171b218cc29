import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ENTITY_CONFLICT_CONFIG,
  ENTITY_SYNC_ORDER,
  FullSyncResultSchema,
  ResetResultSchema,
  SyncStatusSchema,
  type EntityConflictConfigMap,
  type FullSyncResult,
  type SyncStatus,
} from '@sync-engine/shared';
import {
  acquireSyncLock,
  assertSyncLockHeld,
  LockLostError,
  releaseSyncLock,
} from '../../src/sync/sync-lock.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import { startTestServer, type HttpAnswer, type TestServer } from '../support/test-server.ts';
import {
  productCreates,
  pullAll,
  pullPage,
  pushChanges,
  waitForFeedHorizon,
  type ChangeInput,
} from '../support/sync-client.ts';

/** goals conflicts stay PENDING (MANUAL), so /status has conflicts to count. */
const CONFLICT_CONFIG: EntityConflictConfigMap = {
  ...ENTITY_CONFLICT_CONFIG,
  goals: { ...ENTITY_CONFLICT_CONFIG.goals, defaultStrategy: 'MANUAL' },
};

describeEachDatabase('status, reset and full sync', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ target, conflictConfig: CONFLICT_CONFIG });
  });
  afterAll(async () => {
    await server.close();
  });

  async function status(user: string, deviceId: string): Promise<SyncStatus> {
    const answer = await server.request<SyncStatus>(
      'GET',
      `/api/v1/sync/status?deviceId=${encodeURIComponent(deviceId)}`,
      { user },
    );
    expect(answer.status).toBe(200);
    return SyncStatusSchema.parse(answer.body);
  }

  async function reset(user: string, deviceId: string): Promise<void> {
    const answer = await server.request('POST', '/api/v1/sync/reset', { user, body: { deviceId } });
    expect(answer.status).toBe(200);
    expect(ResetResultSchema.parse(answer.body)).toEqual({ deviceId, reset: true });
  }

  async function full(
    user: string,
    body: Record<string, unknown>,
  ): Promise<HttpAnswer<FullSyncResult>> {
    const answer = await server.request<FullSyncResult>('POST', '/api/v1/sync/full', {
      user,
      body,
    });
    if (answer.status === 200 || answer.status === 207) FullSyncResultSchema.parse(answer.body);
    return answer;
  }

  const settle = (user: string) => waitForFeedHorizon(server.database.db, user);
  const feedCount = async (user: string) =>
    Number(
      (
        await sql<{
          n: string;
        }>`select count(*)::text as n from sync_changes where user_id = ${user}`.execute(
          server.database.db,
        )
      ).rows[0]!.n,
    );

  // ---- status -----------------------------------------------------------------------------

  it('the status of a device never seen: no sync time, not in progress, no positions, every change pending', async () => {
    const user = 'status-new';
    await pushChanges(server, user, 'A', productCreates('p', 3));
    await settle(user);
    const s = await status(user, 'fresh');
    expect(s).toEqual({
      deviceId: 'fresh',
      lastSyncTime: null,
      syncInProgress: false,
      cursorPositions: Object.fromEntries(ENTITY_SYNC_ORDER.map((t) => [t, null])),
      pendingChanges: 3,
      conflicts: 0,
    });
    expect((await server.request('GET', '/api/v1/sync/status', { user })).status).toBe(400);
  });

  it('lastSyncTime is set by a push answered 200 or 207 and by a pull with the deviceId, not by a refused push', async () => {
    const user = 'status-time';
    const t0 = Date.now();
    expect((await pushChanges(server, user, 'A', productCreates('p', 1))).status).toBe(200);
    const afterPush = (await status(user, 'A')).lastSyncTime;
    expect(afterPush).not.toBeNull();
    expect(Date.parse(afterPush!)).toBeGreaterThanOrEqual(t0 - 1000);

    await sleep(15);
    const partial = await pushChanges(server, user, 'A', [
      {
        requestId: 'bad',
        entityType: 'products',
        entityId: 'x',
        changeType: 'CREATE',
        changeData: { name: '' },
        syncVersion: 0,
      },
    ]);
    expect(partial.status).toBe(207);
    const after207 = (await status(user, 'A')).lastSyncTime;
    expect(Date.parse(after207!)).toBeGreaterThan(Date.parse(afterPush!));

    // A malformed push (400) is no sync.
    await sleep(15);
    const refused = await server.request('POST', '/api/v1/sync/push', {
      user,
      body: { syncOperationId: randomUUID(), deviceId: 'A', changes: [] },
    });
    expect(refused.status).toBe(400);
    expect((await status(user, 'A')).lastSyncTime).toBe(after207);

    // A pull with the deviceId is a sync of that device; one without is nobody's.
    expect((await status(user, 'B')).lastSyncTime).toBeNull();
    await pullPage(server, user, {});
    expect((await status(user, 'B')).lastSyncTime).toBeNull();
    await sleep(15);
    await pullPage(server, user, { deviceId: 'B' });
    const afterPull = (await status(user, 'B')).lastSyncTime;
    expect(afterPull).not.toBeNull();
    await pullPage(server, user, { deviceId: 'A' });
    expect(Date.parse((await status(user, 'A')).lastSyncTime!)).toBeGreaterThan(
      Date.parse(after207!),
    );
  });

  it('a replayed push (answered 200 again) counts as a sync of the device', async () => {
    const user = 'status-replay';
    const body = { syncOperationId: randomUUID(), deviceId: 'A', changes: productCreates('p', 1) };
    expect((await server.request('POST', '/api/v1/sync/push', { user, body })).status).toBe(200);
    const first = (await status(user, 'A')).lastSyncTime;
    await sleep(15);
    const again = await server.request('POST', '/api/v1/sync/push', { user, body });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(Date.parse((await status(user, 'A')).lastSyncTime!)).toBeGreaterThan(Date.parse(first!));
  });

  it("syncInProgress is true while the device's sync lock is held and not stale, false otherwise", async () => {
    const user = 'status-lock';
    const lock = await acquireSyncLock(server.database.db, user, 'A', 'test-holder', 60_000);
    expect((await status(user, 'A')).syncInProgress).toBe(true);
    expect((await status(user, 'B')).syncInProgress).toBe(false);
    expect((await status('someone-else', 'A')).syncInProgress).toBe(false);
    const refused = await pushChanges(server, user, 'A', productCreates('p', 1));
    expect(refused.status).toBe(409);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);

    await sql`update sync_states set lock_owner = null, lock_expires_at = null where user_id = ${lock.userId} and device_id = ${lock.deviceId}`.execute(
      server.database.db,
    );
    expect((await status(user, 'A')).syncInProgress).toBe(false);

    // A lock left by a crashed worker stops counting once its lease has run out (moved
    // into the past here rather than waited for, so a slow machine cannot flip the answer).
    await acquireSyncLock(server.database.db, user, 'A', 'crashed-holder', 60_000);
    expect((await status(user, 'A')).syncInProgress).toBe(true);
    await sql`update sync_states set lock_expires_at = now() - interval '1 second' where user_id = ${user} and device_id = 'A'`.execute(
      server.database.db,
    );
    expect((await status(user, 'A')).syncInProgress).toBe(false);
  });

  it('cursorPositions holds the position reached per type; each resumes its type and skips nothing of the others', async () => {
    const user = 'status-positions';
    const changes: ChangeInput[] = [
      {
        requestId: 'g',
        entityType: 'goals',
        entityId: 'g',
        changeType: 'CREATE',
        changeData: { name: 'G' },
        syncVersion: 0,
      },
      ...productCreates('p', 2),
    ];
    await pushChanges(server, user, 'A', changes.slice(0, 1));
    await pushChanges(server, user, 'A', changes.slice(1));
    await settle(user);

    const products = await pullAll(server, user, { deviceId: 'B', entityTypes: ['products'] });
    expect(products.changes).toHaveLength(2);
    const s1 = await status(user, 'B');
    expect(
      Object.entries(s1.cursorPositions)
        .filter(([, c]) => c !== null)
        .map(([t]) => t),
    ).toEqual(['products']);
    expect(s1.pendingChanges).toBe(1); // the goal, older than the products but not pulled

    // The products position resumes products after what was pulled…
    await pushChanges(server, user, 'A', productCreates('q', 1));
    await settle(user);
    const resumed = await pullAll(server, user, {
      deviceId: 'B',
      entityTypes: ['products'],
      cursor: s1.cursorPositions.products!,
    });
    expect(resumed.changes.map((c) => c.data['name'])).toEqual(['q 0']);
    // …and used for every type, still delivers the goal it was never sent.
    const everything = await pullAll(server, user, {
      deviceId: 'X',
      cursor: s1.cursorPositions.products!,
    });
    expect(everything.changes.map((c) => c.entityType)).toContain('goals');

    await pullAll(server, user, { deviceId: 'B' });
    const s2 = await status(user, 'B');
    for (const t of ENTITY_SYNC_ORDER) expect(s2.cursorPositions[t], t).toEqual(expect.any(String));
    expect(s2.pendingChanges).toBe(0);
  });

  it("pendingChanges counts what the device has not pulled by the own-device rule: others' changes and the server's", async () => {
    const user = 'status-pending';
    await pushChanges(server, user, 'A', productCreates('a', 3));
    await pushChanges(server, user, 'B', [
      {
        requestId: 's',
        entityType: 'sessions',
        entityId: 's',
        changeType: 'CREATE',
        changeData: {},
        syncVersion: 0,
      },
      {
        requestId: 'c',
        entityType: 'consumptions',
        entityId: 'c',
        changeType: 'CREATE',
        changeData: { timestamp: '2024-05-01T20:00:00.000Z', sessionId: 's' },
        syncVersion: 0,
      },
    ]);
    await settle(user);
    // A: B's two CREATEs and the server's session UPDATE; B: A's three products and the server's UPDATE.
    expect((await status(user, 'A')).pendingChanges).toBe(3);
    expect((await status(user, 'B')).pendingChanges).toBe(4);
    expect((await status(user, 'C')).pendingChanges).toBe(6);

    const first = await pullPage(server, user, { deviceId: 'A', limit: 1 });
    expect(first.body.changes).toHaveLength(1);
    expect((await status(user, 'A')).pendingChanges).toBe(2);
    await pullAll(server, user, { deviceId: 'A', cursor: first.body.cursor, limit: 1 });
    expect((await status(user, 'A')).pendingChanges).toBe(0);

    await pushChanges(server, user, 'A', productCreates('a2', 2));
    await pushChanges(server, user, 'B', productCreates('b2', 1));
    await settle(user);
    expect((await status(user, 'A')).pendingChanges).toBe(1);
    expect((await status('status-pending-other', 'A')).pendingChanges).toBe(0);
  });

  it("conflicts counts the user's pending conflicts, not resolved ones nor another user's", async () => {
    const user = 'status-conflicts';
    const goal = await pushChanges(server, user, 'A', [
      {
        requestId: 'g',
        entityType: 'goals',
        entityId: 'g',
        changeType: 'CREATE',
        changeData: { name: 'G' },
        syncVersion: 0,
      },
    ]);
    const goalId = goal.body.successful[0]!.serverId;
    await pushChanges(server, user, 'B', [
      {
        requestId: 'u',
        entityType: 'goals',
        entityId: goalId,
        changeType: 'UPDATE',
        changeData: { name: 'H' },
        syncVersion: 1,
      },
    ]);
    const manual = await pushChanges(server, user, 'A', [
      {
        requestId: 'u1',
        entityType: 'goals',
        entityId: 'g',
        changeType: 'UPDATE',
        changeData: { name: 'I' },
        syncVersion: 1,
      },
      {
        requestId: 'u2',
        entityType: 'goals',
        entityId: 'g',
        changeType: 'UPDATE',
        changeData: { name: 'J' },
        syncVersion: 1,
      },
    ]);
    expect(manual.body.conflicts.map((c) => c.outcome)).toEqual([
      'MANUAL_REQUIRED',
      'MANUAL_REQUIRED',
    ]);
    // An auto-resolved conflict (products MERGE) is RESOLVED, not counted.
    const product = await pushChanges(server, user, 'A', productCreates('p', 1));
    const productId = product.body.successful[0]!.serverId;
    await pushChanges(server, user, 'B', [
      {
        requestId: 'pu',
        entityType: 'products',
        entityId: productId,
        changeType: 'UPDATE',
        changeData: { name: 'x' },
        syncVersion: 1,
      },
    ]);
    const auto = await pushChanges(server, user, 'A', [
      {
        requestId: 'pu2',
        entityType: 'products',
        entityId: productId,
        changeType: 'UPDATE',
        changeData: { name: 'y' },
        syncVersion: 1,
      },
    ]);
    expect(auto.body.conflicts.map((c) => c.outcome)).toEqual(['ADOPT_SERVER']);

    expect((await status(user, 'A')).conflicts).toBe(2);
    expect((await status(user, 'never-seen')).conflicts).toBe(2);
    expect((await status('status-conflicts-other', 'A')).conflicts).toBe(0);
  });

  // ---- reset ------------------------------------------------------------------------------

  it("reset forgets the device's sync time and positions, so every change is pending again; the client's cursor still decides where a pull starts", async () => {
    const user = 'reset-forget';
    await pushChanges(server, user, 'A', productCreates('p', 4));
    await settle(user);
    const pulled = await pullAll(server, user, { deviceId: 'B' });
    await pushChanges(server, user, 'B', productCreates('b', 1));
    const before = await status(user, 'B');
    expect(before.pendingChanges).toBe(0);
    expect(before.lastSyncTime).not.toBeNull();

    await reset(user, 'B');
    expect(await status(user, 'B')).toEqual({
      deviceId: 'B',
      lastSyncTime: null,
      syncInProgress: false,
      cursorPositions: Object.fromEntries(ENTITY_SYNC_ORDER.map((t) => [t, null])),
      pendingChanges: 4,
      conflicts: 0,
    });
    // Only that device of that user is forgotten.
    expect((await status(user, 'A')).lastSyncTime).not.toBeNull();

    await pushChanges(server, user, 'A', productCreates('q', 1));
    await settle(user);
    const fromCursor = await pullAll(server, user, { deviceId: 'B', cursor: pulled.cursor });
    expect(fromCursor.changes.map((c) => c.data['name'])).toEqual(['q 0']);
    expect((await pullAll(server, user, { deviceId: 'B' })).changes).toHaveLength(5);
    expect((await status(user, 'B')).pendingChanges).toBe(0);

    await reset(user, 'never-seen');
    expect((await server.request('POST', '/api/v1/sync/reset', { user, body: {} })).status).toBe(
      400,
    );
  });

  it("reset releases the device's lock: a push refused with 409 then goes through, and the old holder is fenced off", async () => {
    const user = 'reset-lock';
    const old = await acquireSyncLock(server.database.db, user, 'A', 'stuck-holder', 60_000);
    expect((await pushChanges(server, user, 'A', productCreates('p', 1))).status).toBe(409);
    expect((await status(user, 'A')).syncInProgress).toBe(true);

    await reset(user, 'A');
    expect((await status(user, 'A')).syncInProgress).toBe(false);
    await expect(
      server.database.db.transaction().execute((trx) => assertSyncLockHeld(trx, old)),
    ).rejects.toBeInstanceOf(LockLostError);
    // Fencing tokens keep growing across a reset, so no later holder ever shares the old one's.
    const next = await acquireSyncLock(server.database.db, user, 'A', 'next-holder', 60_000);
    expect(BigInt(next.fencingToken)).toBeGreaterThan(BigInt(old.fencingToken));
    await releaseSyncLock(server.database.db, next, false);

    expect((await pushChanges(server, user, 'A', productCreates('p', 1))).status).toBe(200);
    await expect(
      server.database.db.transaction().execute((trx) => assertSyncLockHeld(trx, old)),
    ).rejects.toBeInstanceOf(LockLostError);
  });

  // ---- full -------------------------------------------------------------------------------

  it("full sync answers the push result and the first pull page from the start, without the device's own changes", async () => {
    const user = 'full-basic';
    await pushChanges(server, user, 'B', productCreates('b', 3));
    await settle(user);
    const answer = await full(user, {
      syncOperationId: randomUUID(),
      deviceId: 'A',
      changes: productCreates('a', 2),
      limit: 2,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.push.successful.map((s) => s.outcome)).toEqual(['APPLIED', 'APPLIED']);
    expect(answer.body.push.idMappings).toHaveLength(2);
    expect(answer.body.pull.changes.map((c) => [c.originDeviceId, c.data['name']])).toEqual([
      ['B', 'b 0'],
      ['B', 'b 1'],
    ]);
    expect(answer.body.pull.hasMore).toBe(true);

    // The page continues like any pull, and the device's positions were remembered.
    const s = await status(user, 'A');
    expect(s.pendingChanges).toBe(1);
    expect(s.lastSyncTime).not.toBeNull();
    const rest = await pullAll(server, user, { deviceId: 'A', cursor: answer.body.pull.cursor });
    expect(rest.changes.map((c) => c.data['name'])).toEqual(['b 2']);

    // entityTypes filters the page.
    const goals = await full(user, {
      syncOperationId: randomUUID(),
      deviceId: 'C',
      changes: [],
      entityTypes: ['goals'],
    });
    expect(goals.status).toBe(200);
    expect(goals.body.pull).toMatchObject({ changes: [], hasMore: false });
    expect(Object.keys(goals.body.pull.entityCursors)).toEqual(['goals']);
  });

  it('full sync with no changes is a pull from the start, whatever the device pulled before', async () => {
    const user = 'full-empty';
    await pushChanges(server, user, 'B', productCreates('b', 2));
    await settle(user);
    await pullAll(server, user, { deviceId: 'A' });
    const answer = await full(user, { syncOperationId: randomUUID(), deviceId: 'A', changes: [] });
    expect(answer.status).toBe(200);
    expect(answer.body.push).toMatchObject({
      successful: [],
      failed: [],
      conflicts: [],
      idMappings: [],
    });
    expect(answer.body.pull.changes.map((c) => c.data['name'])).toEqual(['b 0', 'b 1']);
    expect(answer.body.pull.hasMore).toBe(false);
  });

  it('full sync answers 207 when the push was partial, still with the first pull page', async () => {
    const user = 'full-partial';
    await pushChanges(server, user, 'B', productCreates('b', 1));
    await settle(user);
    const answer = await full(user, {
      syncOperationId: randomUUID(),
      deviceId: 'A',
      changes: [
        ...productCreates('a', 1),
        {
          requestId: 'bad',
          entityType: 'purchases',
          entityId: 'x',
          changeType: 'CREATE',
          changeData: { quantityPurchased: 1, productId: 'nope' },
          syncVersion: 0,
        },
      ],
    });
    expect(answer.status).toBe(207);
    expect(answer.body.push.failed.map((f) => [f.requestId, f.error.code])).toEqual([
      ['bad', 'FK_NOT_FOUND'],
    ]);
    expect(answer.body.push.successful).toHaveLength(1);
    expect(answer.body.pull.changes.map((c) => c.data['name'])).toEqual(['b 0']);
  });

  it('a full sync change carrying a NUL character fails alone (VALIDATION_ERROR), not the request', async () => {
    const user = 'full-nul';
    const answer = await full(user, {
      syncOperationId: randomUUID(),
      deviceId: 'A',
      changes: [
        ...productCreates('a', 1),
        {
          requestId: 'nul',
          entityType: 'products',
          entityId: 'p-nul',
          changeType: 'CREATE',
          changeData: { name: 'bad\u0000name' },
          syncVersion: 0,
        },
      ],
    });
    expect(answer.status).toBe(207);
    expect(answer.body.push.failed.map((f) => [f.requestId, f.error.code, f.error.details?.[0]?.field])).toEqual([
      ['nul', 'VALIDATION_ERROR', 'changeData.name'],
    ]);
    expect(answer.body.push.successful.map((s) => s.requestId)).toEqual(['a-r0']);
  });

  it('a replayed full sync returns the stored push answer with Idempotent-Replayed and applies nothing again', async () => {
    const user = 'full-replay';
    const body = {
      syncOperationId: randomUUID(),
      deviceId: 'A',
      changes: [
        ...productCreates('a', 2),
        {
          requestId: 'bad',
          entityType: 'products',
          entityId: 'x',
          changeType: 'CREATE',
          changeData: {},
          syncVersion: 0,
        },
      ],
    };
    const first = await full(user, body);
    expect(first.status).toBe(207);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const count = await feedCount(user);

    await pushChanges(server, user, 'B', productCreates('b', 1));
    await settle(user);
    const again = await full(user, body);
    expect(again.status).toBe(207);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.push).toEqual(first.body.push);
    // The pull part is the current first page.
    expect(again.body.pull.changes.map((c) => c.data['name'])).toEqual(['b 0']);
    expect(await feedCount(user)).toBe(count + 1);

    const reused = await full(user, { ...body, changes: productCreates('other', 1) });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  });
});
