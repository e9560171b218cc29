import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  MANUAL_GOALS,
  listConflicts,
  makeGoalConflict,
  resolveConflicts,
} from '../support/conflict-fixtures.ts';
import {
  conflictRows,
  create,
  entityState,
  pushOk,
  serverIdOf,
  syncChanges,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';

/** The outbox events of `userId` of one type. */
async function outboxEvents(
  db: Parameters<typeof syncChanges>[0],
  userId: string,
  eventType: string,
) {
  const { rows } = await sql<{ payload: Record<string, unknown> }>`
    select payload from outbox_events where user_id = ${userId} and event_type = ${eventType} order by id`.execute(
    db,
  );
  return rows.map((r) => r.payload);
}

describeEachDatabase('POST /sync/conflicts/resolve', (target) => {
  const server = useSharedServer(target, { conflictConfig: MANUAL_GOALS });

  describe('LOCAL_WINS', () => {
    it("applies the conflict's client data over the current state, as a server change every device pulls", async () => {
      const user = uniqueUser('local');
      const { conflictId, goalId } = await makeGoalConflict(server(), user);
      const before = await entityState(server().database.db, 'goals', user, goalId);
      expect(before).toMatchObject({ version: 2, name: 'B', currentValue: 3, status: 'ACTIVE' });

      const result = await resolveConflicts(server(), user, [
        { conflictId, strategy: 'LOCAL_WINS' },
      ]);
      expect(result.failed).toEqual([]);
      expect(result.resolved).toEqual([
        {
          conflictId,
          entityType: 'goals',
          entityId: goalId,
          version: 3,
          state: expect.objectContaining({
            id: goalId,
            version: 3,
            name: 'C',
            currentValue: 5,
            status: 'ACHIEVED',
            targetValue: 10,
          }) as unknown,
        },
      ]);
      const stored = await entityState(server().database.db, 'goals', user, goalId);
      expect(stored).toEqual(result.resolved[0]?.state);

      const changes = (await syncChanges(server().database.db, user)).filter(
        (c) => c.entity_id === goalId,
      );
      expect(changes.at(-1)).toMatchObject({
        change_type: 'UPDATE',
        version: 3,
        origin_device_id: null,
      });
      const [row] = (await conflictRows(server().database.db, user)).filter(
        (c) => c.id === conflictId,
      );
      expect(row).toMatchObject({
        status: 'RESOLVED',
        resolution: 'LOCAL_WINS',
        resolved_data: stored,
      });
      expect(row?.resolved_at).toBeInstanceOf(Date);
      expect(await outboxEvents(server().database.db, user, 'sync.conflicts.resolved')).toEqual([
        { userId: user, conflictIds: [conflictId] },
      ]);

      // Every device pulls the resolution, the one whose push conflicted included.
      const pull = await server().request<{
        changes: { entityId: string; version: number; originDeviceId: string | null }[];
      }>('GET', '/api/v1/sync/changes?deviceId=dev-1&entityTypes=goals', { user });
      expect(pull.status).toBe(200);
      expect(pull.body.changes.filter((c) => c.entityId === goalId).at(-1)).toMatchObject({
        version: 3,
        originDeviceId: null,
      });
    });
  });

  describe('REMOTE_WINS', () => {
    it('keeps the server state and writes no entity change', async () => {
      const user = uniqueUser('remote');
      const { conflictId, goalId } = await makeGoalConflict(server(), user);
      const changesBefore = await syncChanges(server().database.db, user);
      const result = await resolveConflicts(server(), user, [
        { conflictId, strategy: 'REMOTE_WINS', mergedData: { name: 'ignored' } },
      ]);
      expect(result.resolved).toEqual([
        expect.objectContaining({
          conflictId,
          entityId: goalId,
          version: 2,
          state: expect.objectContaining({ name: 'B', currentValue: 3 }) as unknown,
        }),
      ]);
      expect(await entityState(server().database.db, 'goals', user, goalId)).toMatchObject({
        version: 2,
        name: 'B',
      });
      expect(await syncChanges(server().database.db, user)).toEqual(changesBefore);
      const listed = await listConflicts(server(), user, '?status=RESOLVED');
      expect(listed.body.conflicts).toEqual([
        expect.objectContaining({
          conflictId,
          status: 'RESOLVED',
          resolution: 'REMOTE_WINS',
          strategy: 'MANUAL',
          outcome: 'MANUAL_REQUIRED',
        }),
      ]);
    });
  });

  describe('MERGE', () => {
    it('applies the configured merge when no mergedData is given (goals: name LOCAL_WINS, currentValue MAX_VALUE, status by last write)', async () => {
      const user = uniqueUser('merge');
      const { conflictId, goalId } = await makeGoalConflict(server(), user);
      const result = await resolveConflicts(server(), user, [{ conflictId, strategy: 'MERGE' }]);
      // status is LAST_WRITE_WINS: the stale change carries no newer write time, so the server's stays.
      expect(result.resolved[0]).toMatchObject({
        version: 3,
        state: { name: 'C', currentValue: 5, status: 'ACTIVE' },
      });
      expect(await entityState(server().database.db, 'goals', user, goalId)).toMatchObject({
        version: 3,
        name: 'C',
        currentValue: 5,
        status: 'ACTIVE',
      });
    });

    it('applies mergedData when given, validated and with server-managed fields ignored', async () => {
      const user = uniqueUser('merge-data');
      const { conflictId, goalId } = await makeGoalConflict(server(), user);
      const result = await resolveConflicts(server(), user, [
        {
          conflictId,
          strategy: 'MERGE',
          mergedData: { name: 'Merged', currentValue: 4, version: 99, id: 'x' },
        },
      ]);
      expect(result.resolved[0]).toMatchObject({
        entityId: goalId,
        version: 3,
        state: { id: goalId, name: 'Merged', currentValue: 4, status: 'ACTIVE' },
      });
    });

    it('a merge that changes nothing resolves the conflict without a new version', async () => {
      const user = uniqueUser('merge-same');
      const { conflictId, goalId } = await makeGoalConflict(server(), user);
      const result = await resolveConflicts(server(), user, [
        { conflictId, strategy: 'MERGE', mergedData: { name: 'B' } },
      ]);
      expect(result.resolved[0]).toMatchObject({ entityId: goalId, version: 2 });
      expect(
        (await conflictRows(server().database.db, user)).find((c) => c.id === conflictId),
      ).toMatchObject({ status: 'RESOLVED', resolution: 'MERGE' });
    });
  });

  describe('MANUAL', () => {
    it('applies mergedData', async () => {
      const user = uniqueUser('manual');
      const { conflictId, goalId } = await makeGoalConflict(server(), user);
      const result = await resolveConflicts(server(), user, [
        {
          conflictId,
          strategy: 'MANUAL',
          mergedData: { name: 'Hand made', targetValue: 20, status: 'ABANDONED' },
        },
      ]);
      expect(result.resolved[0]).toMatchObject({
        version: 3,
        state: { name: 'Hand made', targetValue: 20, currentValue: 3, status: 'ABANDONED' },
      });
      expect(await entityState(server().database.db, 'goals', user, goalId)).toMatchObject({
        version: 3,
        name: 'Hand made',
      });
    });

    it('without mergedData fails that resolution with VALIDATION_ERROR and leaves the conflict pending', async () => {
      const user = uniqueUser('manual-missing');
      const { conflictId } = await makeGoalConflict(server(), user);
      const result = await resolveConflicts(server(), user, [{ conflictId, strategy: 'MANUAL' }]);
      expect(result).toEqual({
        resolved: [],
        failed: [
          {
            conflictId,
            error: {
              code: 'VALIDATION_ERROR',
              message: expect.any(String) as unknown,
              details: [{ field: 'mergedData', message: 'required for MANUAL' }],
            },
          },
        ],
      });
      expect(
        (await conflictRows(server().database.db, user)).find((c) => c.id === conflictId),
      ).toMatchObject({ status: 'PENDING', resolution: null });
    });
  });

  it('invalid mergedData is a VALIDATION_ERROR entry naming the fields; nothing is written', async () => {
    const user = uniqueUser('invalid');
    const { conflictId, goalId } = await makeGoalConflict(server(), user);
    const cases: [unknown, string[]][] = [
      [{ name: '' }, ['mergedData.name']],
      [{ status: 'DONE', colour: 'red' }, ['mergedData.status', 'mergedData.colour']],
      [{ targetValue: 'ten' }, ['mergedData.targetValue']],
      [['not', 'an', 'object'], ['mergedData']],
      ['text', ['mergedData']],
    ];
    for (const [mergedData, fields] of cases) {
      const result = await resolveConflicts(server(), user, [
        { conflictId, strategy: 'MERGE', mergedData },
      ]);
      expect(result.resolved).toEqual([]);
      expect(result.failed[0]?.error.code).toBe('VALIDATION_ERROR');
      expect(result.failed[0]?.error.details?.map((d) => d.field).sort()).toEqual(
        [...fields].sort(),
      );
    }
    expect(await entityState(server().database.db, 'goals', user, goalId)).toMatchObject({
      version: 2,
      name: 'B',
    });
    expect(
      (await conflictRows(server().database.db, user)).find((c) => c.id === conflictId)?.status,
    ).toBe('PENDING');
  });

  it('an already resolved conflict, or an auto-resolved one, fails with CONFLICT_ALREADY_RESOLVED', async () => {
    const user = uniqueUser('twice');
    const { conflictId } = await makeGoalConflict(server(), user);
    await resolveConflicts(server(), user, [{ conflictId, strategy: 'REMOTE_WINS' }]);
    const again = await resolveConflicts(server(), user, [{ conflictId, strategy: 'LOCAL_WINS' }]);
    expect(again).toEqual({
      resolved: [],
      failed: [
        {
          conflictId,
          error: { code: 'CONFLICT_ALREADY_RESOLVED', message: expect.any(String) as unknown },
        },
      ],
    });

    // products are MERGE: a stale UPDATE is auto-resolved and recorded RESOLVED/AUTO.
    const created = await pushOk(server(), user, 'dev-1', [
      create('products', 'p1', { name: 'P' }),
    ]);
    const productId = serverIdOf(created, 'products', 'p1');
    await pushOk(server(), user, 'dev-2', [update('products', productId, 1, { description: 'x' })]);
    const auto = await pushOk(server(), user, 'dev-1', [
      update('products', 'p1', 1, { name: 'Q' }),
    ]);
    const autoId = auto.conflicts[0]?.conflictId ?? '';
    const refused = await resolveConflicts(server(), user, [
      { conflictId: autoId, strategy: 'LOCAL_WINS' },
    ]);
    expect(refused.failed[0]?.error.code).toBe('CONFLICT_ALREADY_RESOLVED');
  });

  it("another user's conflict and unknown ids are NOT_FOUND, and the other user's conflict is untouched", async () => {
    const owner = uniqueUser('owner');
    const intruder = uniqueUser('intruder');
    const { conflictId, goalId } = await makeGoalConflict(server(), owner);
    const result = await resolveConflicts(server(), intruder, [
      { conflictId, strategy: 'LOCAL_WINS' },
      { conflictId: randomUUID(), strategy: 'REMOTE_WINS' },
      { conflictId: 'not-a-uuid', strategy: 'REMOTE_WINS' },
    ]);
    expect(result.resolved).toEqual([]);
    expect(result.failed.map((f) => [f.conflictId, f.error.code])).toEqual([
      [conflictId, 'NOT_FOUND'],
      [expect.any(String), 'NOT_FOUND'],
      ['not-a-uuid', 'NOT_FOUND'],
    ]);
    expect(
      (await conflictRows(server().database.db, owner)).find((c) => c.id === conflictId)?.status,
    ).toBe('PENDING');
    expect(await entityState(server().database.db, 'goals', owner, goalId)).toMatchObject({
      version: 2,
    });
  });

  it('resolves a batch one by one: successes commit, failures are listed in request order, 207', async () => {
    const user = uniqueUser('batch');
    const first = await makeGoalConflict(server(), user, 'g1');
    const second = await makeGoalConflict(server(), user, 'g2');
    const result = await resolveConflicts(server(), user, [
      { conflictId: first.conflictId, strategy: 'LOCAL_WINS' },
      { conflictId: randomUUID(), strategy: 'LOCAL_WINS' },
      { conflictId: second.conflictId, strategy: 'MANUAL', mergedData: { currentValue: -1 } },
      { conflictId: first.conflictId, strategy: 'REMOTE_WINS' },
    ]);
    expect(result.resolved.map((r) => [r.conflictId, r.version, r.state['currentValue']])).toEqual([
      [first.conflictId, 3, 5],
      [second.conflictId, 3, -1],
    ]);
    expect(result.failed.map((f) => f.error.code)).toEqual([
      'NOT_FOUND',
      'CONFLICT_ALREADY_RESOLVED',
    ]);
  });

  it('resolving one conflict concurrently resolves it exactly once', async () => {
    const user = uniqueUser('race');
    const { conflictId, goalId } = await makeGoalConflict(server(), user);
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        resolveConflicts(server(), user, [
          { conflictId, strategy: 'MANUAL', mergedData: { currentValue: 100 + i } },
        ]),
      ),
    );
    expect(results.flatMap((r) => r.resolved)).toHaveLength(1);
    expect(results.flatMap((r) => r.failed.map((f) => f.error.code))).toEqual(
      Array(3).fill('CONFLICT_ALREADY_RESOLVED'),
    );
    expect(await entityState(server().database.db, 'goals', user, goalId)).toMatchObject({
      version: 3,
    });
  });

  it('a tombstoned entity is not edited: the conflict is resolved and the tombstone returned', async () => {
    const user = uniqueUser('tomb');
    const { conflictId, goalId } = await makeGoalConflict(server(), user);
    await pushOk(server(), user, 'dev-2', [
      {
        requestId: 'del',
        entityType: 'goals',
        entityId: goalId,
        changeType: 'DELETE',
        syncVersion: 2,
      },
    ]);
    const result = await resolveConflicts(server(), user, [{ conflictId, strategy: 'LOCAL_WINS' }]);
    expect(result.resolved[0]).toMatchObject({
      version: 3,
      state: { name: 'B', deletedAt: expect.any(String) as unknown },
    });
  });

  it('refuses a malformed request as a whole with 400', async () => {
    const user = uniqueUser('malformed');
    for (const body of [
      {},
      { resolutions: [] },
      {
        resolutions: Array.from({ length: 101 }, () => ({
          conflictId: randomUUID(),
          strategy: 'LOCAL_WINS',
        })),
      },
      { resolutions: [{ conflictId: randomUUID(), strategy: 'NEWEST_WINS' }] },
      { resolutions: [{ strategy: 'LOCAL_WINS' }] },
    ]) {
      const answer = await server().request<{ error: { code: string } }>(
        'POST',
        '/api/v1/sync/conflicts/resolve',
        { user, body },
      );
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_ERROR');
    }
    const anonymous = await server().request('POST', '/api/v1/sync/conflicts/resolve', {
      body: { resolutions: [] },
    });
    expect(anonymous.status).toBe(401);
  });
});
