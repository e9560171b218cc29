import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RELATION_GRAPH, type EntityType } from '@sync-engine/shared';
import type { EntityRow, LocalStore, OutboxEntry, StoreTransaction } from './local-store.ts';

/*
 * The one behaviour every LocalStore adapter must have; memory-store.test.ts and
 * sqlite-store.test.ts run it. The sync core relies on nothing else.
 */

function row(id: string, data: Record<string, unknown> = {}, version = 0): EntityRow {
  return { id, version, deletedAt: null, updatedAt: null, data };
}

function entry(requestId: string, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    requestId,
    entityType: 'goals',
    entityId: `g-${requestId}`,
    changeType: 'CREATE',
    changeData: { name: requestId },
    syncVersion: 0,
    updatedAt: '2024-05-01T00:00:00.000Z',
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    batchId: null,
    ...overrides,
  };
}

export interface StoreFactory {
  readonly name: string;
  open(): LocalStore;
}

export function describeLocalStoreConformance(factory: StoreFactory): void {
  describe(`LocalStore conformance: ${factory.name}`, () => {
    let store: LocalStore;
    const tx = <T>(fn: (t: StoreTransaction) => T) => store.transaction(fn);

    beforeEach(() => {
      store = factory.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores rows per entity type with every JSON value intact, tombstones included', async () => {
      const value = {
        name: 'Chamomile',
        description: null,
        effects: ['calm', 'sleep'],
        isPublic: false,
      };
      await tx((t) => {
        t.putRow('products', row('p1', value, 3));
        t.putRow('products', {
          ...row('p0', { name: 'gone' }),
          deletedAt: '2024-05-01T00:00:00.000Z',
        });
        t.putRow('goals', row('p1', { name: 'same id, other type' }));
      });
      const [p1, all, goal] = await tx(
        (t) =>
          [t.getRow('products', 'p1'), t.listRows('products'), t.getRow('goals', 'p1')] as const,
      );
      expect(p1).toEqual(row('p1', value, 3));
      expect(all.map((r) => r.id)).toEqual(['p0', 'p1']);
      expect(all[0]?.deletedAt).toBe('2024-05-01T00:00:00.000Z');
      expect(goal?.data).toEqual({ name: 'same id, other type' });
    });

    it('keeps foreign keys and nested objects as given', async () => {
      const data = {
        content: 'x',
        tags: [],
        symptoms: ['a'],
        reactions: { mood: { level: 2, notes: ['n'] }, ok: true },
        sessionId: 's1',
        consumptionId: null,
        productId: 'p1',
      };
      await tx((t) => t.putRow('journal_entries', row('j1', data)));
      expect((await tx((t) => t.getRow('journal_entries', 'j1')))?.data).toEqual(data);
    });

    it('replaces a row by id and removes it', async () => {
      await tx((t) => t.putRow('goals', row('g1', { name: 'a' })));
      await tx((t) => t.putRow('goals', row('g1', { name: 'b' }, 2)));
      expect(await tx((t) => t.getRow('goals', 'g1'))).toEqual(row('g1', { name: 'b' }, 2));
      await tx((t) => t.removeRow('goals', 'g1'));
      expect(await tx((t) => t.getRow('goals', 'g1'))).toBeUndefined();
    });

    it('does not let a caller mutate stored values through what it read', async () => {
      await tx((t) => t.putRow('products', row('p1', { name: 'a', effects: ['x'] })));
      const read = await tx((t) => t.getRow('products', 'p1'));
      (read?.data['effects'] as string[]).push('mutated');
      expect((await tx((t) => t.getRow('products', 'p1')))?.data['effects']).toEqual(['x']);
    });

    it('remaps an id: the row moves and every foreign key naming it follows', async () => {
      await tx((t) => {
        t.putRow('products', row('local-p', { name: 'P' }));
        t.putRow('sessions', row('s1', { productId: 'local-p', deviceId: null }));
        t.putRow('consumptions', row('c1', { sessionId: 's1', productId: 'local-p' }));
        t.putRow(
          'journal_entries',
          row('j1', { sessionId: null, consumptionId: 'c1', productId: 'local-p' }),
        );
        t.putRow('purchases', row('b1', { productId: 'local-p' }));
        t.putRow('inventory_items', row('i1', { productId: 'local-p' }));
        t.putRow('inventory_items', row('i2', { productId: 'other' }));
      });
      await tx((t) => t.remapId('products', 'local-p', 'srv-p'));
      const state = await tx((t) => ({
        products: t.listRows('products'),
        refs: RELATION_GRAPH.filter((r) => r.targetEntity === 'products').flatMap((r) =>
          t.listRows(r.sourceEntity).map((x) => [r.sourceEntity, x.id, x.data[r.sourceField]]),
        ),
        consumption: t.getRow('consumptions', 'c1'),
      }));
      expect(state.products).toEqual([row('srv-p', { name: 'P' })]);
      expect(state.refs).toEqual([
        ['sessions', 's1', 'srv-p'],
        ['consumptions', 'c1', 'srv-p'],
        ['journal_entries', 'j1', 'srv-p'],
        ['purchases', 'b1', 'srv-p'],
        ['inventory_items', 'i1', 'srv-p'],
        ['inventory_items', 'i2', 'other'],
      ]);
      // Only keys naming the remapped type move: the consumption's session is untouched.
      expect(state.consumption?.data['sessionId']).toBe('s1');
    });

    it('remaps onto a row the device already holds by keeping it and dropping the local one', async () => {
      await tx((t) => {
        t.putRow('devices', row('srv-d', { deviceName: 'pulled' }, 4));
        t.putRow('devices', row('local-d', { deviceName: 'local' }));
        t.putRow('sessions', row('s1', { productId: null, deviceId: 'local-d' }));
      });
      await tx((t) => t.remapId('devices', 'local-d', 'srv-d'));
      const [devices, session] = await tx(
        (t) => [t.listRows('devices'), t.getRow('sessions', 's1')] as const,
      );
      expect(devices).toEqual([row('srv-d', { deviceName: 'pulled' }, 4)]);
      expect(session?.data['deviceId']).toBe('srv-d');
    });

    it('remaps idempotently, and equal ids change nothing', async () => {
      await tx((t) => {
        t.putRow('sessions', row('local-s', { status: 'ACTIVE' }));
        t.putRow('consumptions', row('c1', { sessionId: 'local-s', productId: null }));
      });
      await tx((t) => t.remapId('sessions', 'local-s', 'srv-s'));
      const once = await tx((t) => [t.listRows('sessions'), t.listRows('consumptions')]);
      await tx((t) => {
        t.remapId('sessions', 'local-s', 'srv-s');
        t.remapId('sessions', 'srv-s', 'srv-s');
      });
      expect(await tx((t) => [t.listRows('sessions'), t.listRows('consumptions')])).toEqual(once);
    });

    it('keeps the outbox in insertion order; replacing an entry keeps its place', async () => {
      await tx((t) => ['r1', 'r2', 'r3'].forEach((id) => t.putOutbox(entry(id))));
      await tx((t) => {
        t.putOutbox(entry('r1', { changeData: { name: 'changed' }, batchId: 'op-1' }));
        t.removeOutbox('r2');
        t.putOutbox(entry('r4'));
      });
      const outbox = await tx((t) => t.listOutbox());
      expect(outbox.map((e) => e.requestId)).toEqual(['r1', 'r3', 'r4']);
      expect(outbox[0]).toEqual(entry('r1', { changeData: { name: 'changed' }, batchId: 'op-1' }));
    });

    it('holds dead letters, pending conflicts, id mappings and meta values', async () => {
      const error = {
        code: 'VALIDATION_ERROR',
        message: 'bad',
        details: [{ field: 'changeData.name', message: 'too long' }],
      };
      const conflict = {
        conflictId: 'c-1',
        entityType: 'goals' as const,
        entityId: 'srv-g',
        requestId: 'r9',
        strategy: 'MANUAL',
        localChange: { name: 'mine' },
        clientVersion: 1,
        serverVersion: 2,
        serverState: { id: 'srv-g', name: 'theirs', version: 2 },
        receivedAt: '2024-05-01T00:00:00.000Z',
      };
      await tx((t) => {
        t.putDeadLetter({ entry: entry('r8'), error, deadAt: '2024-05-01T00:00:00.000Z' });
        t.putConflict(conflict);
        t.putIdMapping({ entityType: 'goals', clientId: 'local-g', serverId: 'srv-g' });
        t.setMeta('cursor', 'abc');
      });
      expect(await tx((t) => t.listDeadLetters())).toEqual([
        { entry: entry('r8'), error, deadAt: '2024-05-01T00:00:00.000Z' },
      ]);
      expect(await tx((t) => t.listConflicts())).toEqual([conflict]);
      expect(
        await tx((t) => [
          t.getIdMapping('goals', 'local-g'),
          t.getIdMapping('products', 'local-g'),
        ]),
      ).toEqual(['srv-g', undefined]);
      expect(await tx((t) => t.listIdMappings())).toEqual([
        { entityType: 'goals', clientId: 'local-g', serverId: 'srv-g' },
      ]);
      expect(await tx((t) => t.getMeta('cursor'))).toBe('abc');
      await tx((t) => {
        t.removeDeadLetter('r8');
        t.removeConflict('c-1');
        t.setMeta('cursor', null);
      });
      expect(
        await tx((t) => [t.listDeadLetters(), t.listConflicts(), t.getMeta('cursor')]),
      ).toEqual([[], [], undefined]);
    });

    it('rolls back every write of a transaction that throws', async () => {
      await tx((t) => {
        t.putRow('products', row('local-p', { name: 'P' }));
        t.putRow('sessions', row('s1', { productId: 'local-p', deviceId: null }));
        t.putOutbox(entry('r1'));
        t.putOutbox(entry('r2'));
        t.setMeta('cursor', 'before');
      });
      const before = await tx(snapshot);
      await expect(
        tx((t) => {
          t.remapId('products', 'local-p', 'srv-p');
          t.putIdMapping({ entityType: 'products', clientId: 'local-p', serverId: 'srv-p' });
          t.removeOutbox('r1');
          t.putOutbox(entry('r3'));
          t.putOutbox(entry('r2', { attempts: 5 }));
          t.setMeta('cursor', 'after');
          t.putDeadLetter({
            entry: entry('r1'),
            error: { code: 'X', message: 'x' },
            deadAt: 'now',
          });
          t.removeRow('sessions', 's1');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await tx(snapshot)).toEqual(before);
    });

    it('rejects work after close', async () => {
      await store.close();
      await expect(store.transaction((t) => t.listOutbox())).rejects.toMatchObject({
        kind: 'CLOSED',
      });
      store = factory.open(); // afterEach closes this one
    });

    it('agrees with a plain model over random row writes and remaps', async () => {
      const ids = ['local-a', 'local-b', 'srv-a', 'srv-b'];
      const types: EntityType[] = ['products', 'sessions', 'consumptions'];
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('put' as const),
          type: fc.constantFrom(...types),
          id: fc.constantFrom(...ids),
          ref: fc.constantFrom(...ids, null),
        }),
        fc.record({
          kind: fc.constant('remap' as const),
          type: fc.constantFrom(...types),
          from: fc.constantFrom(...ids),
          to: fc.constantFrom(...ids),
        }),
        fc.record({
          kind: fc.constant('remove' as const),
          type: fc.constantFrom(...types),
          id: fc.constantFrom(...ids),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
          const local = factory.open();
          // The model: rows as plain maps; a remap does exactly what the contract says.
          const model = new Map<EntityType, Map<string, Record<string, unknown>>>(
            types.map((x) => [x, new Map()]),
          );
          // Rows carry every FK field of their type (null when unset), as the sync core writes them.
          const refField: Partial<
            Record<EntityType, { field: string; target: EntityType; other: string }>
          > = {
            sessions: { field: 'productId', target: 'products', other: 'deviceId' },
            consumptions: { field: 'sessionId', target: 'sessions', other: 'productId' },
          };
          try {
            for (const o of ops) {
              const table = model.get(o.type);
              if (table === undefined) throw new Error('unreachable');
              if (o.kind === 'put') {
                const ref = refField[o.type];
                const data =
                  ref === undefined ? { name: o.id } : { [ref.field]: o.ref, [ref.other]: null };
                table.set(o.id, data);
                await local.transaction((t) => t.putRow(o.type, row(o.id, data)));
              } else if (o.kind === 'remove') {
                table.delete(o.id);
                await local.transaction((t) => t.removeRow(o.type, o.id));
              } else {
                if (o.from !== o.to) {
                  for (const [source, ref] of Object.entries(refField)) {
                    if (ref.target !== o.type) continue;
                    for (const data of model.get(source as EntityType)?.values() ?? []) {
                      if (data[ref.field] === o.from) data[ref.field] = o.to;
                    }
                  }
                  const moved = table.get(o.from);
                  if (moved !== undefined) {
                    if (!table.has(o.to)) table.set(o.to, moved);
                    table.delete(o.from);
                  }
                }
                await local.transaction((t) => t.remapId(o.type, o.from, o.to));
              }
            }
            const actual = await local.transaction((t) =>
              types.map((type) => t.listRows(type).map((r) => [r.id, r.data])),
            );
            const expected = types.map((type) =>
              [...(model.get(type)?.entries() ?? [])]
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([id, data]) => [id, data]),
            );
            expect(actual).toEqual(expected);
          } finally {
            await local.close();
          }
        }),
        { numRuns: 60 },
      );
    });
  });
}

function snapshot(t: StoreTransaction) {
  return {
    products: t.listRows('products'),
    sessions: t.listRows('sessions'),
    outbox: t.listOutbox(),
    dead: t.listDeadLetters(),
    ids: t.listIdMappings(),
    cursor: t.getMeta('cursor'),
  };
}
