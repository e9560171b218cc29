import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { DB, SyncChangeType } from '../../src/db/schema.ts';
import {
  createTestDatabase,
  describeEachDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.ts';

/** A pull position: the (xid, seq) of the last change handed out. */
interface Position {
  xid: string;
  seq: string;
}

const START: Position = { xid: '0', seq: '0' };

/**
 * The pull query shape: changes after `after` in (xid, seq) order, only from transactions
 * older than every transaction still running — so a later pull can never find a change
 * sorting before a position already handed out.
 */
function committedChangesAfter(db: Kysely<DB>, userId: string, after: Position) {
  return db
    .selectFrom('sync_changes')
    .select(['xid', 'seq', 'entity_id', 'change_type'])
    .where('user_id', '=', userId)
    .where((eb) =>
      eb(eb.refTuple('xid', 'seq'), '>', eb.tuple(sql<string>`${after.xid}::xid8`, sql<string>`${after.seq}::bigint`)),
    )
    .where('xid', '<', sql<string>`pg_snapshot_xmin(pg_current_snapshot())`)
    .orderBy('xid')
    .orderBy('seq');
}

async function recordChange(
  db: Kysely<DB>,
  userId: string,
  changeType: SyncChangeType = 'CREATE',
): Promise<{ entityId: string; xid: string; seq: string }> {
  const entityId = randomUUID();
  const row = await db
    .insertInto('sync_changes')
    .values({ user_id: userId, entity_type: 'goals', entity_id: entityId, change_type: changeType, version: 1 })
    .returning(['xid', 'seq'])
    .executeTakeFirstOrThrow();
  return { entityId, ...row };
}

async function entityIds(db: Kysely<DB>, userId: string, after: Position = START): Promise<string[]> {
  return (await committedChangesAfter(db, userId, after).execute()).map((r) => r.entity_id);
}

describeEachDatabase('sync_changes pull order', ({ createTestDatabase: create }) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await create();
  });
  afterEach(() => t.close());

  test('changes of committed transactions come back in (xid, seq) order and a cursor resumes after one', async () => {
    const [first, second] = await t.db.transaction().execute(async (trx) => [
      await recordChange(trx, 'u1'),
      await recordChange(trx, 'u1', 'UPDATE'),
    ]);
    const third = await t.db.transaction().execute((trx) => recordChange(trx, 'u1', 'DELETE'));
    await recordChange(t.db, 'u2');

    expect(first?.xid).toBe(second?.xid);
    expect(BigInt(third.xid)).toBeGreaterThan(BigInt(first?.xid ?? '0'));
    expect(await entityIds(t.db, 'u1')).toEqual([first?.entityId, second?.entityId, third.entityId]);
    expect(await entityIds(t.db, 'u1', { xid: first?.xid ?? '', seq: first?.seq ?? '' })).toEqual([
      second?.entityId,
      third.entityId,
    ]);
    expect(await entityIds(t.db, 'u1', { xid: third.xid, seq: third.seq })).toEqual([]);
  });

  test('a pull never hands out a change of a transaction still running, even its own', async () => {
    const committed = await recordChange(t.db, 'u1');
    await t.db.transaction().execute(async (trx) => {
      await recordChange(trx, 'u1');
      expect(await entityIds(trx, 'u1')).toEqual([committed.entityId]);
    });
  });

  test('the xid8 column, its comparisons and the pull index work together', async () => {
    await recordChange(t.db, 'u1');
    const { rows } = await sql<{ xid: string; older: boolean }>`
      select xid, xid < pg_snapshot_xmin(pg_current_snapshot()) as older from sync_changes`.execute(t.db);
    expect(rows).toEqual([{ xid: expect.stringMatching(/^\d+$/) as unknown, older: true }]);
  });
});

/** Polls until `check` passes: other test processes' transactions on the server can hold back xmin briefly. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(TEST_DATABASE_URL !== undefined)('sync_changes on PostgreSQL with out-of-order commits', () => {
  test('a change committed after a later one is never skipped', async () => {
    await using t = await createTestDatabase({ driver: 'postgres', poolSize: 4 });

    // A takes the lower transaction id but commits last.
    const a = await t.db.startTransaction().execute();
    const b = await t.db.startTransaction().execute();
    try {
      const changeA = await recordChange(a, 'u1');
      const changeB = await recordChange(b, 'u1');
      expect(BigInt(changeA.xid)).toBeLessThan(BigInt(changeB.xid));
      await b.commit().execute();

      // B is committed and visible, but handing it out would move the cursor past A.
      const visible = await t.db.selectFrom('sync_changes').select('entity_id').where('user_id', '=', 'u1').execute();
      expect(visible.map((r) => r.entity_id)).toEqual([changeB.entityId]);
      expect(await entityIds(t.db, 'u1')).toEqual([]);

      await a.commit().execute();
      const ids = await eventually(
        () => entityIds(t.db, 'u1'),
        (found) => found.length === 2,
      );
      expect(ids).toEqual([changeA.entityId, changeB.entityId]);
    } finally {
      // No-ops when already committed; releases the connections when an assertion failed.
      await a.rollback().execute().catch(() => undefined);
      await b.rollback().execute().catch(() => undefined);
    }
  });
});
