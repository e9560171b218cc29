import { describe, expect, it } from 'vitest';
import { LocalNotFoundError, LocalValidationError } from './errors.ts';
import { recordCreate, recordDelete, recordUpdate } from './local-writes.ts';
import { createMemoryStore } from './store/memory-store.ts';
import type { StoreTransaction } from './store/local-store.ts';

let n = 0;
const ctx = () => ({ now: new Date('2024-05-01T10:00:00Z'), requestId: `r${++n}` });

async function inStore<T>(fn: (tx: StoreTransaction) => T): Promise<T> {
  return createMemoryStore().transaction(fn);
}

describe('recordCreate', () => {
  it('stores every field with the server defaults and queues the CREATE with what was given', async () => {
    const { row, outbox } = await inStore((tx) => ({
      row: recordCreate(tx, ctx(), 'sessions', 'local-s', { notes: 'n' }),
      outbox: tx.listOutbox(),
    }));
    expect(row).toMatchObject({ id: 'local-s', version: 0, deletedAt: null });
    expect(row.data).toEqual({
      status: 'ACTIVE',
      notes: 'n',
      productId: null,
      deviceId: null,
      eventCount: 0,
      sessionStartTimestamp: null,
      sessionEndTimestamp: null,
      totalDurationMs: 0,
    });
    expect(outbox).toMatchObject([
      { entityId: 'local-s', changeType: 'CREATE', changeData: { notes: 'n' }, syncVersion: 0 },
    ]);
  });

  it('normalises timestamps the way the server stores them', async () => {
    const row = await inStore((tx) =>
      recordCreate(tx, ctx(), 'consumptions', 'local-c', {
        timestamp: '2024-05-01T12:00:00+02:00',
      }),
    );
    expect(row.data['timestamp']).toBe('2024-05-01T10:00:00.000Z');
  });

  it('refuses what the server would refuse, with field details', async () => {
    const error = await inStore((tx) => {
      try {
        recordCreate(tx, ctx(), 'goals', 'local-g', { name: '', status: 'DONE', colour: 'red' });
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(error).toBeInstanceOf(LocalValidationError);
    expect((error as LocalValidationError).details.map((d) => d.field).sort()).toEqual([
      'changeData.colour',
      'changeData.name',
      'changeData.status',
    ]);
  });

  it('refuses a foreign key naming no local entity, and stores one by its current id', async () => {
    await inStore((tx) => {
      expect(() =>
        recordCreate(tx, ctx(), 'purchases', 'local-b', {
          productId: 'nope',
          quantityPurchased: 1,
        }),
      ).toThrow(LocalValidationError);
      tx.putRow('products', {
        id: 'srv-p',
        version: 1,
        deletedAt: null,
        updatedAt: null,
        data: { name: 'P' },
      });
      tx.putIdMapping({ entityType: 'products', clientId: 'local-p', serverId: 'srv-p' });
      const row = recordCreate(tx, ctx(), 'purchases', 'local-b', {
        productId: 'local-p',
        quantityPurchased: 1,
      });
      expect(row.data['productId']).toBe('srv-p');
      expect(tx.listOutbox()[0]?.changeData['productId']).toBe('srv-p');
    });
  });

  it('refuses an id that is taken', async () => {
    await inStore((tx) => {
      recordCreate(tx, ctx(), 'goals', 'g', { name: 'a' });
      expect(() => recordCreate(tx, ctx(), 'goals', 'g', { name: 'b' })).toThrow(
        LocalValidationError,
      );
    });
  });
});

describe('recordUpdate and recordDelete', () => {
  const synced = (tx: StoreTransaction) =>
    tx.putRow('goals', {
      id: 'srv-g',
      version: 3,
      deletedAt: null,
      updatedAt: null,
      data: { name: 'Run', targetValue: 10, currentValue: 1, status: 'ACTIVE' },
    });

  it('patches the row and queues the patch based on the row version', async () => {
    await inStore((tx) => {
      synced(tx);
      const row = recordUpdate(tx, ctx(), 'goals', 'srv-g', { currentValue: 4 });
      expect(row.data).toMatchObject({ name: 'Run', currentValue: 4 });
      expect(tx.listOutbox()).toMatchObject([
        { changeType: 'UPDATE', changeData: { currentValue: 4 }, syncVersion: 3 },
      ]);
    });
  });

  it('finds an entity by the client id it was created with', async () => {
    await inStore((tx) => {
      synced(tx);
      tx.putIdMapping({ entityType: 'goals', clientId: 'local-g', serverId: 'srv-g' });
      expect(recordUpdate(tx, ctx(), 'goals', 'local-g', { name: 'Walk' }).id).toBe('srv-g');
    });
  });

  it('keeps a tombstone and refuses to edit it again', async () => {
    await inStore((tx) => {
      synced(tx);
      const row = recordDelete(tx, ctx(), 'goals', 'srv-g');
      expect(row.deletedAt).toBe('2024-05-01T10:00:00.000Z');
      expect(tx.getRow('goals', 'srv-g')?.deletedAt).not.toBeNull();
      expect(() => recordUpdate(tx, ctx(), 'goals', 'srv-g', { name: 'x' })).toThrow(
        LocalNotFoundError,
      );
      expect(() => recordDelete(tx, ctx(), 'goals', 'srv-g')).toThrow(LocalNotFoundError);
      expect(tx.listOutbox().map((e) => [e.changeType, e.syncVersion])).toEqual([['DELETE', 3]]);
    });
  });

  it('refuses to edit append-only records, which the server would skip', async () => {
    await inStore((tx) => {
      recordCreate(tx, ctx(), 'ai_usage_records', 'local-a', { model: 'm', inputTokens: 1 });
      expect(() => recordUpdate(tx, ctx(), 'ai_usage_records', 'local-a', { model: 'n' })).toThrow(
        LocalValidationError,
      );
      expect(() => recordDelete(tx, ctx(), 'ai_usage_records', 'local-a')).toThrow(
        LocalValidationError,
      );
    });
  });

  it('rejects an unknown entity', async () => {
    await inStore((tx) => {
      expect(() => recordUpdate(tx, ctx(), 'goals', 'missing', { name: 'x' })).toThrow(
        LocalNotFoundError,
      );
    });
  });
});
