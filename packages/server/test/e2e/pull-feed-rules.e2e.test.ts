import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ENTITY_REGISTRY, type EntityType, type PulledChange } from '@sync-engine/shared';
import { describeEachDatabase, type DatabaseTestTarget } from '../support/test-database.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import {
  pullAll,
  pullPage,
  pushChanges,
  waitForFeedHorizon,
  type ChangeInput,
} from '../support/sync-client.ts';

/** A valid CREATE without foreign keys for the types the MIN-rule tests write. */
const SIMPLE_TYPES = [
  'products',
  'devices',
  'sessions',
  'consumptions',
  'goals',
  'ai_usage_records',
] as const satisfies readonly EntityType[];
type SimpleType = (typeof SIMPLE_TYPES)[number];
const SIMPLE_DATA: Record<SimpleType, Record<string, unknown>> = {
  products: { name: 'Tea' },
  devices: { deviceName: 'Vape' },
  sessions: { notes: 'evening' },
  consumptions: { timestamp: '2024-05-01T20:00:00.000Z' },
  goals: { name: 'Less', targetValue: 3 },
  ai_usage_records: {
    model: 'm',
    inputTokens: 1,
    outputTokens: 2,
    totalCost: 0.5,
    timestamp: '2024-05-01T20:00:00.000Z',
  },
};

function create(type: SimpleType, clientId: string): ChangeInput {
  return {
    requestId: `r-${clientId}`,
    entityType: type,
    entityId: clientId,
    changeType: 'CREATE',
    changeData: SIMPLE_DATA[type],
    syncVersion: 0,
  };
}

async function feedIds(server: TestServer, user: string, where = sql``): Promise<string[]> {
  const { rows } = await sql<{ seq: string }>`
    select c.seq::text as seq from sync_changes c where c.user_id = ${user} ${where} order by c.xid, c.seq`.execute(
    server.database.db,
  );
  return rows.map((r) => r.seq);
}

const byType = (changes: readonly PulledChange[]) =>
  changes.map((c) => [c.entityType, c.changeType] as const);

function feedRuleTests(target: DatabaseTestTarget, minRuleRuns: number): void {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ target });
  });
  afterAll(async () => {
    await server.close();
  });

  it("a pull filtered by entityTypes, then an unfiltered pull from its cursor, misses none of the other types' changes (MIN rule)", async () => {
    const user = 'min-rule';
    // Other types' changes older than the products one: a products-only reader moves past them.
    await pushChanges(server, user, 'w', [create('goals', 'g1'), create('sessions', 's1')]);
    await pushChanges(server, user, 'w', [create('products', 'p1')]);
    await waitForFeedHorizon(server.database.db, user);

    const products = await pullAll(server, user, { deviceId: 'r', entityTypes: ['products'] });
    expect(byType(products.changes)).toEqual([['products', 'CREATE']]);
    expect(Object.keys(products.pages[0]!.entityCursors)).toEqual(['products']);

    await pushChanges(server, user, 'w', [create('goals', 'g2'), create('products', 'p2')]);
    await waitForFeedHorizon(server.database.db, user);
    const rest = await pullAll(server, user, { deviceId: 'r', cursor: products.cursor });
    expect(byType(rest.changes)).toEqual([
      ['sessions', 'CREATE'],
      ['goals', 'CREATE'],
      ['products', 'CREATE'],
      ['goals', 'CREATE'],
    ]);
    expect(rest.changes.map((c) => c.data['name'] ?? c.data['notes'])).toEqual([
      'evening',
      'Less',
      'Tea',
      'Less',
    ]);
    const seen = [...products.changes, ...rest.changes].map((c) => c.changeId);
    expect([...seen].sort()).toEqual([...(await feedIds(server, user))].sort());

    // A per-type cursor of the filtered pull, used for every type, skips nothing either.
    const viaEntityCursor = await pullAll(server, user, {
      deviceId: 'r',
      cursor: products.pages[0]!.entityCursors.products!,
    });
    expect(viaEntityCursor.changes.map((c) => c.changeId).sort()).toEqual(
      rest.changes.map((c) => c.changeId).sort(),
    );
  });

  it('any mix of filtered and unfiltered pulls with any page size delivers every change once (MIN rule, property)', async () => {
    let run = 0;
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('push' as const),
        types: fc.array(fc.constantFrom(...SIMPLE_TYPES), { minLength: 1, maxLength: 4 }),
      }),
      fc.record({
        kind: fc.constant('pull' as const),
        types: fc.option(fc.subarray([...SIMPLE_TYPES], { minLength: 1 }), { nil: undefined }),
        limit: fc.integer({ min: 1, max: 4 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const user = `min-prop-${run++}`;
        let cursor: string | undefined;
        let n = 0;
        const received = new Map<string, PulledChange>();
        const take = (changes: readonly PulledChange[], types: readonly string[] | undefined) => {
          for (const c of changes) {
            if (types !== undefined) expect(types).toContain(c.entityType);
            expect(received.has(c.changeId), `change ${c.changeId} pulled twice`).toBe(false);
            received.set(c.changeId, c);
          }
        };
        for (const s of steps) {
          if (s.kind === 'push') {
            const answer = await pushChanges(
              server,
              user,
              'w',
              s.types.map((t) => create(t, `c${n++}`)),
            );
            expect(answer.status).toBe(200);
          } else {
            await waitForFeedHorizon(server.database.db, user);
            const page = await pullPage(server, user, {
              deviceId: 'r',
              cursor,
              entityTypes: s.types,
              limit: s.limit,
            });
            expect(page.status).toBe(200);
            take(page.body.changes, s.types);
            cursor = page.body.cursor;
          }
        }
        await waitForFeedHorizon(server.database.db, user);
        take((await pullAll(server, user, { deviceId: 'r', cursor, limit: 3 })).changes, undefined);
        expect([...received.keys()].sort()).toEqual((await feedIds(server, user)).sort());
      }),
      { numRuns: minRuleRuns },
    );
  });

  it("a device's pull leaves out its own changes but keeps the server's: a consumption changes its session's aggregates, pulled with originDeviceId null", async () => {
    const user = 'own-device';
    const push = await pushChanges(server, user, 'A', [
      // Children first on purpose: the server applies them in sync order.
      {
        requestId: 'c',
        entityType: 'consumptions',
        entityId: 'c-1',
        changeType: 'CREATE',
        changeData: { timestamp: '2024-05-01T20:00:00.000Z', sessionId: 's-1' },
        syncVersion: 0,
      },
      {
        requestId: 'c2',
        entityType: 'consumptions',
        entityId: 'c-2',
        changeType: 'CREATE',
        changeData: { timestamp: '2024-05-01T20:30:00.000Z', sessionId: 's-1' },
        syncVersion: 0,
      },
      {
        requestId: 's',
        entityType: 'sessions',
        entityId: 's-1',
        changeType: 'CREATE',
        changeData: {},
        syncVersion: 0,
      },
    ]);
    expect(push.status).toBe(200);
    const sessionId = push.body.idMappings.find((m) => m.entityType === 'sessions')!.serverId;
    await waitForFeedHorizon(server.database.db, user);

    const own = await pullAll(server, user, { deviceId: 'A' });
    expect(
      own.changes.map((c) => [c.entityType, c.changeType, c.entityId, c.originDeviceId]),
    ).toEqual([['sessions', 'UPDATE', sessionId, null]]);
    expect(own.changes[0]!.data).toMatchObject({
      id: sessionId,
      eventCount: 2,
      sessionStartTimestamp: '2024-05-01T20:00:00.000Z',
      sessionEndTimestamp: '2024-05-01T20:30:00.000Z',
      totalDurationMs: 30 * 60 * 1000,
    });

    const other = await pullAll(server, user, { deviceId: 'B' });
    expect(other.changes.map((c) => [c.entityType, c.changeType, c.originDeviceId])).toEqual([
      ['sessions', 'CREATE', 'A'],
      ['consumptions', 'CREATE', 'A'],
      ['consumptions', 'CREATE', 'A'],
      ['sessions', 'UPDATE', null],
    ]);
    // Without a deviceId nothing is left out.
    expect((await pullAll(server, user)).changes).toHaveLength(4);

    // A merge of a stale UPDATE is the server's change too: the pushing device pulls it.
    const goal = await pushChanges(server, user, 'A', [
      {
        requestId: 'g',
        entityType: 'goals',
        entityId: 'g-1',
        changeType: 'CREATE',
        changeData: { name: 'Walk', currentValue: 1 },
        syncVersion: 0,
      },
    ]);
    const goalId = goal.body.successful[0]!.serverId;
    expect(
      (
        await pushChanges(server, user, 'B', [
          {
            requestId: 'g1',
            entityType: 'goals',
            entityId: goalId,
            changeType: 'UPDATE',
            changeData: { currentValue: 5 },
            syncVersion: 1,
          },
        ])
      ).status,
    ).toBe(200);
    const stale = await pushChanges(server, user, 'A', [
      {
        requestId: 'g2',
        entityType: 'goals',
        entityId: 'g-1',
        changeType: 'UPDATE',
        changeData: { name: 'Run', currentValue: 2 },
        syncVersion: 1,
      },
    ]);
    expect(stale.status).toBe(207);
    expect(stale.body.conflicts[0]).toMatchObject({
      outcome: 'ADOPT_SERVER',
      resolvedState: { name: 'Run', currentValue: 5, version: 3 },
    });
    await waitForFeedHorizon(server.database.db, user);
    const merged = await pullAll(server, user, { deviceId: 'A', cursor: own.cursor });
    expect(
      merged.changes.map((c) => [c.entityType, c.changeType, c.version, c.originDeviceId]),
    ).toEqual([
      ['goals', 'UPDATE', 2, 'B'],
      ['goals', 'UPDATE', 3, null],
    ]);
    expect(merged.changes[1]!.data).toMatchObject({ name: 'Run', currentValue: 5, version: 3 });
  });

  it('a DELETE is pulled as the tombstone: the latest state with deletedAt set, on every change of the entity', async () => {
    const user = 'tombstone';
    const push = await pushChanges(server, user, 'A', [
      {
        requestId: '1',
        entityType: 'products',
        entityId: 'p',
        changeType: 'CREATE',
        changeData: { name: 'Tea', effects: ['calm'] },
        syncVersion: 0,
      },
      {
        requestId: '2',
        entityType: 'products',
        entityId: 'p',
        changeType: 'UPDATE',
        changeData: { name: 'Green tea' },
        syncVersion: 1,
      },
      {
        requestId: '3',
        entityType: 'products',
        entityId: 'p',
        changeType: 'DELETE',
        syncVersion: 2,
      },
    ]);
    expect(push.status).toBe(200);
    const id = push.body.successful[0]!.serverId;
    await waitForFeedHorizon(server.database.db, user);
    const pulled = await pullAll(server, user, { deviceId: 'B' });
    expect(pulled.changes.map((c) => [c.changeType, c.version])).toEqual([
      ['CREATE', 1],
      ['UPDATE', 2],
      ['DELETE', 3],
    ]);
    for (const c of pulled.changes) {
      expect(c.entityId).toBe(id);
      expect(c.data).toMatchObject({ id, version: 3, name: 'Green tea', effects: ['calm'] });
      expect(typeof c.data['deletedAt']).toBe('string');
      expect(Date.parse(c.data['deletedAt'] as string)).not.toBeNaN();
    }
    // A second DELETE changes nothing and adds no change to the feed.
    await pushChanges(server, user, 'A', [
      {
        requestId: '4',
        entityType: 'products',
        entityId: id,
        changeType: 'DELETE',
        syncVersion: 3,
      },
    ]);
    await waitForFeedHorizon(server.database.db, user);
    expect((await pullAll(server, user, { deviceId: 'B', cursor: pulled.cursor })).changes).toEqual(
      [],
    );
  });

  it('pulled foreign keys hold server ids, whichever ids the pushes named them by', async () => {
    const user = 'fk-ids';
    const first = await pushChanges(server, user, 'A', [
      {
        requestId: 'j',
        entityType: 'journal_entries',
        entityId: 'j-1',
        changeType: 'CREATE',
        changeData: { content: 'ok', sessionId: 's-1', consumptionId: 'c-1', productId: 'p-1' },
        syncVersion: 0,
      },
      {
        requestId: 'i',
        entityType: 'inventory_items',
        entityId: 'i-1',
        changeType: 'CREATE',
        changeData: { quantityRemaining: 3, productId: 'p-1' },
        syncVersion: 0,
      },
      {
        requestId: 'pu',
        entityType: 'purchases',
        entityId: 'pu-1',
        changeType: 'CREATE',
        changeData: { quantityPurchased: 2, productId: 'p-1' },
        syncVersion: 0,
      },
      {
        requestId: 'c',
        entityType: 'consumptions',
        entityId: 'c-1',
        changeType: 'CREATE',
        changeData: { timestamp: '2024-05-01T20:00:00.000Z', sessionId: 's-1', productId: 'p-1' },
        syncVersion: 0,
      },
      {
        requestId: 's',
        entityType: 'sessions',
        entityId: 's-1',
        changeType: 'CREATE',
        changeData: { productId: 'p-1', deviceId: 'd-1' },
        syncVersion: 0,
      },
      {
        requestId: 'd',
        entityType: 'devices',
        entityId: 'd-1',
        changeType: 'CREATE',
        changeData: { deviceName: 'Pen' },
        syncVersion: 0,
      },
      {
        requestId: 'p',
        entityType: 'products',
        entityId: 'p-1',
        changeType: 'CREATE',
        changeData: { name: 'Tea' },
        syncVersion: 0,
      },
    ]);
    expect(first.status).toBe(200);
    const serverIdOf = new Map(
      first.body.idMappings.map((m) => [`${m.entityType}:${m.clientId}`, m.serverId]),
    );
    // A later push (another device) names the parent by its client id.
    const second = await pushChanges(server, user, 'C', [
      {
        requestId: 'pu2',
        entityType: 'purchases',
        entityId: 'pu-2',
        changeType: 'CREATE',
        changeData: { quantityPurchased: 1, productId: 'p-1' },
        syncVersion: 0,
      },
    ]);
    expect(second.status).toBe(200);
    await waitForFeedHorizon(server.database.db, user);

    const pulled = await pullAll(server, user, { deviceId: 'B' });
    const expected: Record<string, string | undefined> = {
      productId: serverIdOf.get('products:p-1'),
      deviceId: serverIdOf.get('devices:d-1'),
      sessionId: serverIdOf.get('sessions:s-1'),
      consumptionId: serverIdOf.get('consumptions:c-1'),
    };
    let refs = 0;
    for (const c of pulled.changes) {
      for (const [field, spec] of Object.entries(ENTITY_REGISTRY[c.entityType].fields)) {
        if (spec.kind !== 'ref') continue;
        refs++;
        expect(c.data[field], `${c.entityType}.${field}`).toBe(expected[field]);
      }
    }
    expect(refs).toBe(12);
  });
}

describeEachDatabase('pull feed rules', (target) =>
  feedRuleTests(target, target.driver === 'pglite' ? 40 : 15),
);
