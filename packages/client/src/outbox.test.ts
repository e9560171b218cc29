import { describe, expect, it } from 'vitest';
import { selectBatch } from './batch-selection.ts';
import { OutboxIndex, enqueueChange, overlayPending, type NewOutboxEntry } from './outbox.ts';
import { createMemoryStore } from './store/memory-store.ts';
import type { EntityRow, OutboxEntry, StoreTransaction } from './store/local-store.ts';

let n = 0;
function change(overrides: Partial<NewOutboxEntry>): NewOutboxEntry {
  return {
    requestId: `r${++n}`,
    entityType: 'goals',
    entityId: 'g1',
    changeType: 'UPDATE',
    changeData: {},
    syncVersion: 1,
    updatedAt: `2024-05-01T10:00:0${n % 10}.000Z`,
    ...overrides,
  };
}

async function inStore<T>(fn: (tx: StoreTransaction) => T): Promise<T> {
  return createMemoryStore().transaction(fn);
}

const summary = (entries: OutboxEntry[]) =>
  entries.map((e) => [e.entityId, e.changeType, e.changeData]);

describe('enqueueChange', () => {
  it('folds an UPDATE into the last queued CREATE or UPDATE of the entity', async () => {
    const outbox = await inStore((tx) => {
      enqueueChange(
        tx,
        change({ changeType: 'CREATE', changeData: { name: 'a', targetValue: 1 }, syncVersion: 0 }),
      );
      enqueueChange(tx, change({ changeData: { name: 'b' } }));
      enqueueChange(tx, change({ entityId: 'g2', changeData: { name: 'x' } }));
      enqueueChange(tx, change({ entityId: 'g2', changeData: { currentValue: 2 } }));
      return tx.listOutbox();
    });
    expect(summary(outbox)).toEqual([
      ['g1', 'CREATE', { name: 'b', targetValue: 1 }],
      ['g2', 'UPDATE', { name: 'x', currentValue: 2 }],
    ]);
  });

  it('never changes an entry in flight, and appends after a DELETE', async () => {
    const outbox = await inStore((tx) => {
      const first = enqueueChange(tx, change({ changeData: { name: 'a' } }));
      tx.putOutbox({ ...first, batchId: 'op-1' });
      enqueueChange(tx, change({ changeData: { name: 'b' } }));
      enqueueChange(tx, change({ entityId: 'g2', changeType: 'DELETE' }));
      enqueueChange(tx, change({ entityId: 'g2', changeData: { name: 'late' } }));
      return tx.listOutbox();
    });
    expect(summary(outbox)).toEqual([
      ['g1', 'UPDATE', { name: 'a' }],
      ['g1', 'UPDATE', { name: 'b' }],
      ['g2', 'DELETE', {}],
      ['g2', 'UPDATE', { name: 'late' }],
    ]);
  });
});

describe('overlayPending', () => {
  it('re-applies queued patches and deletes on a server state, keeping its version', () => {
    const base: EntityRow = {
      id: 'g1',
      version: 7,
      deletedAt: null,
      updatedAt: null,
      data: { name: 'server', currentValue: 9 },
    };
    const entries: OutboxEntry[] = [
      {
        ...change({ changeData: { name: 'mine' } }),
        attempts: 0,
        nextAttemptAt: null,
        lastError: null,
        batchId: null,
      },
      {
        ...change({ changeType: 'DELETE', updatedAt: '2024-05-01T11:00:00.000Z' }),
        attempts: 0,
        nextAttemptAt: null,
        lastError: null,
        batchId: null,
      },
    ];
    expect(overlayPending(base, entries)).toEqual({
      id: 'g1',
      version: 7,
      deletedAt: '2024-05-01T11:00:00.000Z',
      updatedAt: '2024-05-01T11:00:00.000Z',
      data: { name: 'mine', currentValue: 9 },
    });
  });
});

describe('OutboxIndex.addMappings', () => {
  it('moves queued changes and their foreign keys to the server id, leaving in-flight ones as sent', async () => {
    const outbox = await inStore((tx) => {
      const inFlight = enqueueChange(
        tx,
        change({
          entityType: 'sessions',
          entityId: 's1',
          changeType: 'CREATE',
          changeData: { productId: 'local-p' },
        }),
      );
      tx.putOutbox({ ...inFlight, batchId: 'op-1' });
      enqueueChange(
        tx,
        change({ entityType: 'products', entityId: 'local-p', changeData: { name: 'n' } }),
      );
      enqueueChange(
        tx,
        change({
          entityType: 'consumptions',
          entityId: 'c1',
          changeType: 'CREATE',
          changeData: { productId: 'local-p', sessionId: 'local-p' },
        }),
      );
      const index = new OutboxIndex(tx);
      index.addMappings([{ entityType: 'products', clientId: 'local-p', serverId: 'srv-p' }]);
      // The index answers by either id, in step with what it wrote.
      expect(index.pendingFor('products', 'local-p').map((e) => e.entityId)).toEqual(['srv-p']);
      expect(tx.getIdMapping('products', 'local-p')).toBe('srv-p');
      return tx.listOutbox();
    });
    expect(summary(outbox)).toEqual([
      ['s1', 'CREATE', { productId: 'local-p' }],
      ['srv-p', 'UPDATE', { name: 'n' }],
      // sessionId names a session, not a product: untouched.
      ['c1', 'CREATE', { productId: 'srv-p', sessionId: 'local-p' }],
    ]);
  });
});

describe('selectBatch', () => {
  const now = new Date('2024-05-01T12:00:00Z');

  it('takes changes in order up to the limit', async () => {
    const batch = await inStore((tx) => {
      for (const id of ['a', 'b', 'c'])
        enqueueChange(tx, change({ entityId: id, changeType: 'CREATE', changeData: { name: id } }));
      return selectBatch(tx, { maxChanges: 2, now });
    });
    expect(batch.map((e) => e.entityId)).toEqual(['a', 'b']);
  });

  it('holds back a change backing off, and every later change of its entity', async () => {
    const batch = await inStore((tx) => {
      const waiting = enqueueChange(tx, change({ entityId: 'a', changeData: { name: 'x' } }));
      tx.putOutbox({ ...waiting, nextAttemptAt: '2024-05-01T12:00:05.000Z', attempts: 1 });
      enqueueChange(tx, change({ entityId: 'a', changeType: 'DELETE' }));
      enqueueChange(tx, change({ entityId: 'b', changeData: { name: 'y' } }));
      return selectBatch(tx, { maxChanges: 10, now });
    });
    expect(batch.map((e) => [e.entityId, e.changeType])).toEqual([['b', 'UPDATE']]);
  });

  it('holds back a change whose foreign key names a CREATE that is not in the batch', async () => {
    const batch = await inStore((tx) => {
      const product = enqueueChange(
        tx,
        change({
          entityType: 'products',
          entityId: 'local-p',
          changeType: 'CREATE',
          changeData: { name: 'p' },
        }),
      );
      tx.putOutbox({ ...product, nextAttemptAt: '2024-05-01T12:00:05.000Z', attempts: 1 });
      enqueueChange(
        tx,
        change({
          entityType: 'sessions',
          entityId: 'local-s',
          changeType: 'CREATE',
          changeData: { productId: 'local-p' },
        }),
      );
      enqueueChange(
        tx,
        change({
          entityType: 'consumptions',
          entityId: 'local-c',
          changeType: 'CREATE',
          changeData: { timestamp: '2024-05-01T00:00:00.000Z', sessionId: 'local-s' },
        }),
      );
      enqueueChange(
        tx,
        change({
          entityType: 'goals',
          entityId: 'g',
          changeType: 'CREATE',
          changeData: { name: 'free' },
        }),
      );
      return selectBatch(tx, { maxChanges: 10, now });
    });
    expect(batch.map((e) => e.entityId)).toEqual(['g']);
  });

  it('holds back an UPDATE that came to name a CREATE queued after it', async () => {
    const batch = await inStore((tx) => {
      enqueueChange(
        tx,
        change({ entityType: 'consumptions', entityId: 'srv-c', changeData: { notes: 'a' } }),
      );
      enqueueChange(
        tx,
        change({
          entityType: 'sessions',
          entityId: 'local-s',
          changeType: 'CREATE',
          changeData: {},
        }),
      );
      // Folds into the first entry, which now names a session created after it.
      enqueueChange(
        tx,
        change({
          entityType: 'consumptions',
          entityId: 'srv-c',
          changeData: { sessionId: 'local-s' },
        }),
      );
      return selectBatch(tx, { maxChanges: 10, now });
    });
    expect(batch.map((e) => e.entityId)).toEqual(['local-s']);
  });
});
