import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { PullResult, PushResult } from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  BeforeCommitHooks,
  conflictOf,
  conflictRows,
  countRows,
  create,
  deferred,
  entityState,
  push,
  pushOk,
  remove,
  serverIdOf,
  successOf,
  syncChanges,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';

const T0 = '2024-05-01T10:00:00.000Z';

describeEachDatabase('push: conflicts, tombstones and append-only records', (target) => {
  const hooks = new BeforeCommitHooks();
  const server = useSharedServer(target, { testHooks: { beforeCommit: hooks.beforeCommit } });
  const db = () => server().database.db;

  /** Creates one entity on the phone and returns its server id. */
  async function seed(
    user: string,
    type: Parameters<typeof create>[0],
    data: Record<string, unknown>,
  ): Promise<string> {
    return serverIdOf(await pushOk(server(), user, 'phone', [create(type, 'e', data)]), type, 'e');
  }

  it('a stale UPDATE is a conflict: sessions keep the later MONOTONIC status and take the LOCAL_WINS notes (ADOPT_SERVER with resolvedState)', async () => {
    const user = uniqueUser('cf');
    const id = await seed(user, 'sessions', {});
    await pushOk(server(), user, 'phone', [update('sessions', id, 1, { status: 'COMPLETED' })]);
    const serverState = await entityState(db(), 'sessions', user, id);

    const answer = await push(server(), user, 'tablet', [
      update('sessions', 'e', 1, { status: 'PAUSED', notes: 'from tablet' }, 'stale'),
    ]);
    expect(answer.status).toBe(207);
    expect(answer.body.successful).toEqual([]);
    const conflict = conflictOf(answer.body, 'stale');
    expect(conflict).toMatchObject({
      entityType: 'sessions',
      entityId: 'e',
      clientId: 'e',
      serverId: id,
      strategy: 'MERGE',
      outcome: 'ADOPT_SERVER',
      clientVersion: 1,
      serverVersion: 2,
      serverState: { ...serverState },
    });
    expect(conflict.resolvedState).toMatchObject({
      id,
      status: 'COMPLETED',
      notes: 'from tablet',
      version: 3,
    });
    expect(await entityState(db(), 'sessions', user, id)).toEqual(conflict.resolvedState);

    // The merge is the server's own change: origin null, so every device (the tablet too) pulls it.
    const merge = (await syncChanges(db(), user)).at(-1);
    expect(merge).toMatchObject({
      entity_id: id,
      change_type: 'UPDATE',
      version: 3,
      origin_device_id: null,
    });
    const pulled = await server().request<PullResult>(
      'GET',
      '/api/v1/sync/changes?deviceId=tablet',
      { user },
    );
    expect(pulled.body.changes.map((c) => [c.version, c.originDeviceId])).toEqual([
      [1, 'phone'],
      [2, 'phone'],
      [3, null],
    ]);
  });

  it('every conflict is recorded in sync_conflicts; an auto-resolved one is RESOLVED with resolution AUTO', async () => {
    const user = uniqueUser('cf');
    const id = await seed(user, 'sessions', { status: 'PAUSED' });
    await pushOk(server(), user, 'phone', [update('sessions', id, 1, { notes: 'phone' })]);
    const answer = await pushOk(server(), user, 'tablet', [
      update('sessions', id, 1, { status: 'COMPLETED' }, 'stale'),
    ]);
    const conflict = conflictOf(answer, 'stale');
    expect(conflict.resolvedState).toMatchObject({ status: 'COMPLETED', notes: 'phone' });

    const rows = await conflictRows(db(), user);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: conflict.conflictId,
      entity_type: 'sessions',
      entity_id: id,
      request_id: 'stale',
      device_id: 'tablet',
      strategy: 'MERGE',
      outcome: 'ADOPT_SERVER',
      status: 'RESOLVED',
      resolution: 'AUTO',
      client_version: 1,
      server_version: 2,
      client_data: { status: 'COMPLETED' },
      server_data: conflict.serverState,
      resolved_data: conflict.resolvedState,
    });
    expect(rows[0]?.resolved_at).toBeInstanceOf(Date);
  });

  it('goals: a stale currentValue resolves by MAX_VALUE; a merge equal to the server state applies nothing but is still recorded', async () => {
    const user = uniqueUser('cf');
    const id = await seed(user, 'goals', { name: 'Run', currentValue: 1 });
    await pushOk(server(), user, 'phone', [update('goals', id, 1, { currentValue: 10 })]);

    const lower = await pushOk(server(), user, 'tablet', [
      update('goals', id, 1, { currentValue: 7 }, 'lower'),
    ]);
    expect(conflictOf(lower, 'lower')).toMatchObject({
      outcome: 'ADOPT_SERVER',
      strategy: 'MERGE',
      serverVersion: 2,
    });
    expect(conflictOf(lower, 'lower').resolvedState).toMatchObject({
      currentValue: 10,
      version: 2,
    });
    expect(await entityState(db(), 'goals', user, id)).toMatchObject({
      currentValue: 10,
      version: 2,
    });
    expect(await countRows(db(), 'sync_changes', user)).toBe(2);

    const higher = await pushOk(server(), user, 'tablet', [
      update('goals', id, 1, { currentValue: 15 }, 'higher'),
    ]);
    expect(conflictOf(higher, 'higher').resolvedState).toMatchObject({
      currentValue: 15,
      version: 3,
    });
    expect(await entityState(db(), 'goals', user, id)).toMatchObject({
      currentValue: 15,
      version: 3,
    });
    expect(await countRows(db(), 'sync_changes', user)).toBe(3);
    expect(
      (await conflictRows(db(), user)).map((r) => [r.request_id, r.status, r.resolution]),
    ).toEqual([
      ['lower', 'RESOLVED', 'AUTO'],
      ['higher', 'RESOLVED', 'AUTO'],
    ]);
  });

  it('journal entries: tags merge as a deduplicated union (server order, then client-only) and reactions deep-merge', async () => {
    const user = uniqueUser('cf');
    const id = await seed(user, 'journal_entries', {
      content: 'a',
      tags: ['calm'],
      reactions: { mood: { am: 'ok' }, score: 1 },
    });
    await pushOk(server(), user, 'phone', [
      update('journal_entries', id, 1, {
        tags: ['calm', 'tired'],
        reactions: { mood: { am: 'good' }, score: 1 },
      }),
    ]);
    const answer = await pushOk(server(), user, 'tablet', [
      update(
        'journal_entries',
        id,
        1,
        {
          content: 'tablet text',
          tags: ['happy', 'calm'],
          reactions: { mood: { pm: 'great' }, score: 2 },
        },
        'stale',
      ),
    ]);
    expect(conflictOf(answer, 'stale').resolvedState).toMatchObject({
      content: 'tablet text',
      tags: ['calm', 'tired', 'happy'],
      reactions: { mood: { am: 'good', pm: 'great' }, score: 2 },
      version: 3,
    });
    expect(await entityState(db(), 'journal_entries', user, id)).toMatchObject({
      tags: ['calm', 'tired', 'happy'],
      version: 3,
    });
  });

  it("devices: SERVER_WINS keeps the server's fields except the LOCAL_WINS deviceName and settings", async () => {
    const user = uniqueUser('cf');
    const id = await seed(user, 'devices', {
      deviceName: 'Pen',
      firmwareVersion: '1.0',
      settings: { led: 'on' },
    });
    await pushOk(server(), user, 'phone', [update('devices', id, 1, { firmwareVersion: '1.1' })]);
    const answer = await pushOk(server(), user, 'tablet', [
      update(
        'devices',
        id,
        1,
        { deviceName: 'My pen', firmwareVersion: '0.9', settings: { led: 'off' } },
        'stale',
      ),
    ]);
    const conflict = conflictOf(answer, 'stale');
    expect(conflict.strategy).toBe('SERVER_WINS');
    expect(conflict.resolvedState).toMatchObject({
      deviceName: 'My pen',
      firmwareVersion: '1.1',
      settings: { led: 'off' },
      version: 3,
    });
  });

  it('an UPDATE on top of the current version is a plain change, not a conflict', async () => {
    const user = uniqueUser('cf');
    const id = await seed(user, 'goals', { name: 'Run' });
    const answer = await push(server(), user, 'tablet', [
      update('goals', id, 1, { name: 'Walk' }, 'fresh'),
    ]);
    expect(answer.status).toBe(200);
    expect(successOf(answer.body, 'fresh')).toMatchObject({ outcome: 'APPLIED', version: 2 });
    expect(await countRows(db(), 'sync_conflicts', user)).toBe(0);
  });

  it('the version check runs on the row locked in the write transaction: an UPDATE racing a committing one from the same base becomes a conflict', async () => {
    const user = uniqueUser('race');
    const id = await seed(user, 'goals', { name: 'Run', currentValue: 1 });
    const slowOp = randomUUID();
    const reached = deferred();
    const release = deferred();
    hooks.on(slowOp, async () => {
      reached.resolve();
      await release.promise;
    });
    // The phone's UPDATE has read and written version 2 but not committed yet.
    const slow = push(
      server(),
      user,
      'phone',
      [update('goals', id, 1, { currentValue: 5 }, 'first')],
      { syncOperationId: slowOp },
    );
    await reached.promise;
    const fast = push(server(), user, 'tablet', [
      update('goals', id, 1, { currentValue: 3 }, 'second'),
    ]);
    setTimeout(() => release.resolve(), 200);
    const [a, b] = [await slow, await fast];

    expect(successOf(a.body, 'first')).toMatchObject({ outcome: 'APPLIED', version: 2 });
    expect(conflictOf(b.body, 'second')).toMatchObject({
      clientVersion: 1,
      serverVersion: 2,
      outcome: 'ADOPT_SERVER',
    });
    expect(await entityState(db(), 'goals', user, id)).toMatchObject({
      currentValue: 5,
      version: 2,
    });
  });

  it('DELETE tombstones the entity and wins even when stale: APPLIED in successful, never a conflict', async () => {
    const user = uniqueUser('del');
    const id = await seed(user, 'goals', { name: 'Run' });
    await pushOk(server(), user, 'phone', [update('goals', id, 1, { name: 'Walk' })]);
    const answer = await push(server(), user, 'tablet', [remove('goals', id, 1, 'stale-delete')]);
    expect(answer.status).toBe(200);
    expect(successOf(answer.body, 'stale-delete')).toMatchObject({
      outcome: 'APPLIED',
      changeType: 'DELETE',
      version: 3,
      serverId: id,
    });
    const tombstone = await entityState(db(), 'goals', user, id);
    expect(tombstone).toMatchObject({ version: 3, name: 'Walk' });
    expect(tombstone?.deletedAt).toEqual(expect.any(String));
    expect((await syncChanges(db(), user)).at(-1)).toMatchObject({
      change_type: 'DELETE',
      version: 3,
      origin_device_id: 'tablet',
    });

    const pulled = await server().request<PullResult>(
      'GET',
      '/api/v1/sync/changes?deviceId=other',
      { user },
    );
    expect(pulled.body.changes.at(-1)).toMatchObject({
      changeType: 'DELETE',
      entityId: id,
      data: { deletedAt: tombstone?.deletedAt },
    });
  });

  it('DELETE of a missing or an already deleted entity is SKIPPED', async () => {
    const user = uniqueUser('del');
    const id = await seed(user, 'goals', { name: 'Run' });
    await pushOk(server(), user, 'phone', [remove('goals', id, 1)]);
    const answer = await push(server(), user, 'tablet', [
      remove('goals', id, 2, 'again'),
      remove('goals', 'never-existed', 0, 'missing'),
    ]);
    expect(answer.status).toBe(200);
    expect(successOf(answer.body, 'again')).toMatchObject({
      outcome: 'SKIPPED',
      serverId: id,
      version: 2,
    });
    expect(successOf(answer.body, 'missing')).toMatchObject({ outcome: 'SKIPPED', version: 0 });
    expect(await countRows(db(), 'sync_changes', user)).toBe(2);
  });

  it('an UPDATE of a tombstone, stale or not, is a conflict ADOPT_SERVER by SERVER_WINS whose serverState and resolvedState are the tombstone', async () => {
    const user = uniqueUser('del');
    const id = await seed(user, 'goals', { name: 'Run' });
    await pushOk(server(), user, 'phone', [remove('goals', id, 1)]);
    const tombstone = await entityState(db(), 'goals', user, id);
    const answer = await push(server(), user, 'tablet', [
      update('goals', id, 1, { name: 'stale edit' }, 'stale'),
      update('goals', 'e', 2, { name: 'current edit' }, 'current'),
    ]);
    expect(answer.status).toBe(207);
    for (const requestId of ['stale', 'current']) {
      const conflict = conflictOf(answer.body, requestId);
      expect(conflict).toMatchObject({
        outcome: 'ADOPT_SERVER',
        strategy: 'SERVER_WINS',
        serverVersion: 2,
        serverId: id,
      });
      expect(conflict.serverState).toEqual(tombstone);
      expect(conflict.resolvedState).toEqual(tombstone);
    }
    expect(await entityState(db(), 'goals', user, id)).toEqual(tombstone);
    expect(await countRows(db(), 'sync_changes', user)).toBe(2);
    const rows = (await conflictRows(db(), user)).sort((a, b) =>
      a.request_id.localeCompare(b.request_id),
    );
    expect(rows.map((r) => [r.request_id, r.strategy, r.status, r.resolution])).toEqual([
      ['current', 'SERVER_WINS', 'RESOLVED', 'AUTO'],
      ['stale', 'SERVER_WINS', 'RESOLVED', 'AUTO'],
    ]);
    expect(rows[0]?.resolved_data).toEqual(tombstone);
  });

  it('ai_usage_records are append-only: UPDATE or DELETE of an existing record is SKIPPED and changes nothing, stale or not', async () => {
    const user = uniqueUser('ai');
    const id = await seed(user, 'ai_usage_records', {
      model: 'gpt',
      inputTokens: 10,
      outputTokens: 5,
      totalCost: 0.01,
      timestamp: T0,
    });
    const before = await entityState(db(), 'ai_usage_records', user, id);
    const answer = await push(server(), user, 'tablet', [
      update('ai_usage_records', id, 1, { inputTokens: 99 }, 'edit'),
      update('ai_usage_records', 'e', 0, { totalCost: 9 }, 'stale-edit'),
      remove('ai_usage_records', id, 1, 'drop'),
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body.successful.map((s) => [s.requestId, s.outcome, s.version])).toEqual([
      ['edit', 'SKIPPED', 1],
      ['stale-edit', 'SKIPPED', 1],
      ['drop', 'SKIPPED', 1],
    ]);
    expect(await entityState(db(), 'ai_usage_records', user, id)).toEqual(before);
    expect(await countRows(db(), 'sync_changes', user)).toBe(1);
    expect(await countRows(db(), 'sync_conflicts', user)).toBe(0);
  });

  it('each change commits with its outbox SyncChange, id mapping and conflict record: one per change, none for a failed one', async () => {
    const user = uniqueUser('atom');
    const id = await seed(user, 'goals', { name: 'Run', currentValue: 1 });
    await pushOk(server(), user, 'phone', [update('goals', id, 1, { currentValue: 4 })]);
    const answer: PushResult = await pushOk(server(), user, 'tablet', [
      create('products', 'new-p', { name: 'Tea' }),
      create('products', 'bad-p', { name: 42 }),
      update('goals', id, 1, { currentValue: 9 }, 'stale'),
    ]);
    expect(answer.failed.map((f) => f.requestId)).toEqual(['c:bad-p']);

    const changes = await syncChanges(db(), user);
    expect(changes.filter((c) => c.request_id === 'c:new-p')).toHaveLength(1);
    expect(changes.filter((c) => c.request_id === 'stale')).toEqual([
      expect.objectContaining({ origin_device_id: null, version: 3 }),
    ]);
    expect(changes.filter((c) => c.request_id === 'c:bad-p')).toEqual([]);
    expect((await conflictRows(db(), user)).map((r) => r.request_id)).toEqual(['stale']);
    const { rows } = await sql<{
      client_id: string;
    }>`select client_id from id_mappings where user_id = ${user} order by client_id`.execute(db());
    expect(rows.map((r) => r.client_id)).toEqual(['e', 'new-p']);
  });

  it('a change the database itself rejects fails alone: the rest of its batch is applied, each with its own records', async () => {
    const user = uniqueUser('atom');
    // Valid by the schema, but PostgreSQL has no year 0: the batch write fails, so its changes
    // are retried one per transaction and only this one fails.
    const answer = await pushOk(server(), user, 'tablet', [
      create('products', 'p1', { name: 'one' }),
      create('consumptions', 'year-zero', { timestamp: '0000-01-01T00:00:00Z' }),
      create('products', 'p2', { name: 'two' }),
      create('goals', 'g', { name: 'goal' }),
    ]);
    expect(answer.failed.map((f) => f.requestId)).toEqual(['c:year-zero']);
    expect(answer.successful.map((s) => [s.requestId, s.outcome])).toEqual([
      ['c:p1', 'APPLIED'],
      ['c:p2', 'APPLIED'],
      ['c:g', 'APPLIED'],
    ]);
    expect((await syncChanges(db(), user)).map((c) => c.request_id)).toEqual([
      'c:p1',
      'c:p2',
      'c:g',
    ]);
    expect(await countRows(db(), 'id_mappings', user)).toBe(3);
    expect(await countRows(db(), 'consumptions', user)).toBe(0);
  });
});
