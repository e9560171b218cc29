import { describe, expect, it } from 'vitest';
import type { PulledChange } from '@sync-engine/shared';
import { enqueueChange } from './outbox.ts';
import { applyPulledChanges } from './pull-apply.ts';
import { createMemoryStore } from './store/memory-store.ts';

const G = '33333333-3333-4333-8333-333333333333';

function pulled(
  changeType: PulledChange['changeType'],
  version: number,
  data: Record<string, unknown>,
): PulledChange {
  return {
    changeId: `ch-${version}`,
    entityType: 'goals',
    entityId: G,
    changeType,
    version,
    data: {
      id: G,
      userId: 'u',
      version,
      createdAt: '2024-05-01T00:00:00.000Z',
      updatedAt: '2024-05-01T00:00:00.000Z',
      deletedAt: null,
      ...data,
    },
    createdAt: '2024-05-01T00:00:00.000Z',
    originDeviceId: 'other',
  };
}

describe('applyPulledChanges', () => {
  it('replaces rows with full states, keeps tombstones and never goes back in version', async () => {
    const store = createMemoryStore();
    const rows = await store.transaction((tx) => {
      applyPulledChanges(tx, [
        pulled('CREATE', 1, { name: 'a', targetValue: 1, currentValue: 0, status: 'ACTIVE' }),
      ]);
      applyPulledChanges(tx, [
        pulled('UPDATE', 3, { name: 'c', targetValue: 1, currentValue: 2, status: 'ACTIVE' }),
      ]);
      const changed = applyPulledChanges(tx, [pulled('UPDATE', 2, { name: 'b' })]);
      const after = tx.getRow('goals', G);
      applyPulledChanges(tx, [
        pulled('DELETE', 4, {
          name: 'c',
          targetValue: 1,
          currentValue: 2,
          status: 'ACTIVE',
          deletedAt: '2024-05-02T00:00:00.000Z',
        }),
      ]);
      return { changed, after, final: tx.listRows('goals') };
    });
    expect(rows.changed).toBe(0);
    expect(rows.after).toMatchObject({ version: 3, data: { name: 'c', currentValue: 2 } });
    expect(rows.final).toEqual([
      {
        id: G,
        version: 4,
        deletedAt: '2024-05-02T00:00:00.000Z',
        updatedAt: '2024-05-01T00:00:00.000Z',
        data: { name: 'c', targetValue: 1, currentValue: 2, status: 'ACTIVE' },
      },
    ]);
  });

  it('keeps showing queued local edits on top of a pulled state', async () => {
    const store = createMemoryStore();
    const row = await store.transaction((tx) => {
      tx.putRow('goals', {
        id: G,
        version: 1,
        deletedAt: null,
        updatedAt: null,
        data: { name: 'a', currentValue: 0 },
      });
      enqueueChange(tx, {
        requestId: 'r1',
        entityType: 'goals',
        entityId: G,
        changeType: 'UPDATE',
        changeData: { name: 'mine' },
        syncVersion: 1,
        updatedAt: '2024-05-01T09:00:00.000Z',
      });
      applyPulledChanges(tx, [pulled('UPDATE', 2, { name: 'theirs', currentValue: 7 })]);
      return { row: tx.getRow('goals', G), outbox: tx.listOutbox() };
    });
    expect(row.row).toMatchObject({ version: 2, data: { name: 'mine', currentValue: 7 } });
    expect(row.outbox).toMatchObject([{ syncVersion: 1 }]);
  });
});
