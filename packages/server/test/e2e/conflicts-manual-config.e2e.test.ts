import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConflictConfig } from '../../src/config/sync-config-file.ts';
import { listConflicts, resolveConflicts } from '../support/conflict-fixtures.ts';
import {
  conflictOf,
  create,
  entityState,
  pushOk,
  serverIdOf,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import type { EntityConflictConfigMap } from '@sync-engine/shared';

/** The conflict config an operator's SYNC_CONFIG file yields, read the way start-up reads it. */
let configFromFile: EntityConflictConfigMap;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sync-config-'));
  const file = path.join(dir, 'sync-config.json');
  await writeFile(
    file,
    JSON.stringify({
      entities: {
        goals: { defaultStrategy: 'MANUAL' },
        products: { fieldPolicies: { name: 'MANUAL' } },
        consumptions: { fieldPolicies: { timestamp: 'MANUAL' } },
      },
    }),
  );
  configFromFile = await loadConflictConfig(file);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeEachDatabase('SYNC_CONFIG making conflicts MANUAL', (target) => {
  // The getter defers reading configFromFile until the server starts (after the file is read).
  const server = useSharedServer(target, {
    get conflictConfig() {
      return configFromFile;
    },
  });

  it('goals MANUAL: a stale UPDATE is MANUAL_REQUIRED, pending and listed, nothing applied; then resolved', async () => {
    const user = uniqueUser('goals');
    const created = await pushOk(server(), user, 'dev-1', [
      create('goals', 'g', { name: 'Run', targetValue: 10, currentValue: 1 }),
    ]);
    const goalId = serverIdOf(created, 'goals', 'g');
    await pushOk(server(), user, 'dev-2', [update('goals', goalId, 1, { currentValue: 4 })]);
    const stale = update('goals', 'g', 1, { currentValue: 2, name: 'Walk' });
    const pushed = await pushOk(server(), user, 'dev-1', [stale]);
    expect(conflictOf(pushed, stale.requestId)).toMatchObject({
      strategy: 'MANUAL',
      outcome: 'MANUAL_REQUIRED',
      serverVersion: 2,
      resolvedState: null,
    });
    expect(await entityState(server().database.db, 'goals', user, goalId)).toMatchObject({
      version: 2,
      name: 'Run',
      currentValue: 4,
    });

    const pending = await listConflicts(server(), user, '?status=PENDING');
    expect(pending.body.conflicts).toEqual([
      expect.objectContaining({
        entityType: 'goals',
        entityId: goalId,
        status: 'PENDING',
        resolution: null,
        clientData: { currentValue: 2, name: 'Walk' },
      }),
    ]);
    const status = await server().request<{ conflicts: number }>(
      'GET',
      '/api/v1/sync/status?deviceId=dev-1',
      { user },
    );
    expect(status.body.conflicts).toBe(1);

    const conflictId = pending.body.conflicts[0]?.conflictId ?? '';
    const resolved = await resolveConflicts(server(), user, [
      { conflictId, strategy: 'MANUAL', mergedData: { name: 'Walk', currentValue: 4 } },
    ]);
    expect(resolved.resolved[0]).toMatchObject({
      version: 3,
      state: { name: 'Walk', currentValue: 4 },
    });
    expect((await listConflicts(server(), user, '?status=PENDING')).body.conflicts).toEqual([]);
    expect(
      (await listConflicts(server(), user, '?status=RESOLVED')).body.conflicts[0],
    ).toMatchObject({ conflictId, resolution: 'MANUAL' });
    const after = await server().request<{ conflicts: number }>(
      'GET',
      '/api/v1/sync/status?deviceId=dev-1',
      { user },
    );
    expect(after.body.conflicts).toBe(0);
  });

  describe('a MANUAL field (products.name)', () => {
    it('a stale UPDATE that changes the field is MANUAL_REQUIRED and applies nothing, not even other fields', async () => {
      const user = uniqueUser('field');
      const created = await pushOk(server(), user, 'dev-1', [
        create('products', 'p', { name: 'Tea', description: 'green' }),
      ]);
      const productId = serverIdOf(created, 'products', 'p');
      await pushOk(server(), user, 'dev-2', [
        update('products', productId, 1, { effects: ['calm'] }),
      ]);
      const stale = update('products', 'p', 1, { name: 'Coffee', description: 'black' });
      const pushed = await pushOk(server(), user, 'dev-1', [stale]);
      expect(conflictOf(pushed, stale.requestId)).toMatchObject({
        strategy: 'MANUAL',
        outcome: 'MANUAL_REQUIRED',
        resolvedState: null,
      });
      expect(await entityState(server().database.db, 'products', user, productId)).toMatchObject({
        version: 2,
        name: 'Tea',
        description: 'green',
      });
      const listed = await listConflicts(server(), user, '?status=PENDING');
      expect(listed.body.conflicts.map((c) => c.entityId)).toEqual([productId]);

      // A configured merge never decides the MANUAL field: it keeps the stored name.
      const conflictId = listed.body.conflicts[0]?.conflictId ?? '';
      const merged = await resolveConflicts(server(), user, [{ conflictId, strategy: 'MERGE' }]);
      expect(merged.resolved[0]).toMatchObject({
        version: 3,
        state: { name: 'Tea', description: 'black', effects: ['calm'] },
      });
    });

    it('a stale UPDATE that leaves the field as stored is merged automatically', async () => {
      const user = uniqueUser('field-untouched');
      const created = await pushOk(server(), user, 'dev-1', [
        create('products', 'p', { name: 'Tea' }),
      ]);
      const productId = serverIdOf(created, 'products', 'p');
      await pushOk(server(), user, 'dev-2', [
        update('products', productId, 1, { effects: ['calm'] }),
      ]);
      for (const patch of [{ description: 'strong' }, { name: 'Tea', description: 'stronger' }]) {
        const version =
          (await entityState(server().database.db, 'products', user, productId))?.version ?? 0;
        const stale = update('products', 'p', 1, patch);
        const pushed = await pushOk(server(), user, 'dev-1', [stale]);
        expect(conflictOf(pushed, stale.requestId)).toMatchObject({
          strategy: 'MERGE',
          outcome: 'ADOPT_SERVER',
          resolvedState: { name: 'Tea', description: patch.description, version: version + 1 },
        });
      }
      expect((await listConflicts(server(), user, '?status=PENDING')).body.conflicts).toEqual([]);
    });
  });

  it("resolving a consumption's conflict recomputes its session's derived fields in the same transaction", async () => {
    const user = uniqueUser('aggregates');
    const created = await pushOk(server(), user, 'dev-1', [
      create('sessions', 's', {}),
      create('consumptions', 'c', { sessionId: 's', timestamp: '2024-05-01T10:00:00.000Z' }),
    ]);
    const sessionId = serverIdOf(created, 'sessions', 's');
    const consumptionId = serverIdOf(created, 'consumptions', 'c');
    await pushOk(server(), user, 'dev-2', [
      update('consumptions', consumptionId, 1, { notes: 'n' }),
    ]);
    const stale = update('consumptions', 'c', 1, { timestamp: '2024-05-01T09:00:00.000Z' });
    const pushed = await pushOk(server(), user, 'dev-1', [stale]);
    const { conflictId, outcome } = conflictOf(pushed, stale.requestId);
    expect(outcome).toBe('MANUAL_REQUIRED');
    const before = await entityState(server().database.db, 'sessions', user, sessionId);
    expect(before).toMatchObject({
      sessionStartTimestamp: '2024-05-01T10:00:00.000Z',
      eventCount: 1,
    });

    const resolved = await resolveConflicts(server(), user, [
      { conflictId, strategy: 'LOCAL_WINS' },
    ]);
    expect(resolved.resolved[0]).toMatchObject({
      version: 3,
      state: { timestamp: '2024-05-01T09:00:00.000Z', notes: 'n' },
    });
    expect(await entityState(server().database.db, 'sessions', user, sessionId)).toMatchObject({
      sessionStartTimestamp: '2024-05-01T09:00:00.000Z',
      sessionEndTimestamp: '2024-05-01T09:00:00.000Z',
      eventCount: 1,
      version: (before?.version ?? 0) + 1,
    });
  });
});
