import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENTITY_SYNC_ORDER,
  START_POSITION,
  type CursorPosition,
  type EntityType,
} from '@sync-engine/shared';
import type { DB } from '../../src/db/schema.ts';
import { waitForFeedHorizon } from '../support/sync-client.ts';
import {
  countPending,
  feedHead,
  readFeed,
  type FeedPositions,
} from '../../src/sync/pull/change-feed.ts';
import {
  TEST_DATABASE_URL,
  createTestDatabase,
  type TestDatabase,
} from '../support/test-database.ts';

/** One node of `EXPLAIN (FORMAT JSON)`. */
interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Shared Hit Blocks'?: number;
  readonly 'Shared Read Blocks'?: number;
  readonly 'Actual Rows'?: number;
  readonly 'Actual Loops'?: number;
  readonly 'Rows Removed by Filter'?: number;
  readonly 'Rows Removed by Index Recheck'?: number;
  readonly Plans?: readonly PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** Rows the plan read from sync_changes, kept or thrown away by a filter. */
function rowsExamined(plan: PlanNode): number {
  return nodes(plan)
    .filter((n) => n['Relation Name'] === 'sync_changes')
    .reduce(
      (sum, n) =>
        sum +
        ((n['Actual Rows'] ?? 0) +
          (n['Rows Removed by Filter'] ?? 0) +
          (n['Rows Removed by Index Recheck'] ?? 0)) *
          (n['Actual Loops'] ?? 1),
      0,
    );
}

const LIMIT = 101;
const BIG_USER = 'big';

/**
 * The pull queries on a feed of 170k changes (one user with 30k of them), after ANALYZE:
 * every read of sync_changes goes through one of its indexes, and a page touches a number
 * of buffers bounded by the page size, not by the feed's length.
 */
describe.skipIf(TEST_DATABASE_URL === undefined)('change feed query plans [postgres]', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<DB>;
  const captured: CompiledQuery[] = [];
  let middle: CursorPosition;
  let head: CursorPosition;
  /** 40 changes before the newest ai_usage_records change. */
  let nearAiHead: CursorPosition;

  beforeAll(async () => {
    database = await createTestDatabase({ driver: 'postgres' });
    const types = [...ENTITY_SYNC_ORDER];
    // Separate statements, separate transactions: the feed spans many transaction ids.
    for (let batch = 0; batch < 14; batch++) {
      await sql`insert into sync_changes (user_id, entity_type, entity_id, change_type, version, origin_device_id)
        select 'u' || (i % 300), (${types}::text[])[1 + (i / 7) % 9], gen_random_uuid(), 'CREATE', 1, 'd' || (i % 3)
        from generate_series(1, 10000) i`.execute(database.db);
    }
    // ai_usage_records only in the first of the big user's batches: a reader of that type
    // near its end must not wade through the 20k later changes of the other types.
    for (let batch = 0; batch < 3; batch++) {
      const spread = batch === 0 ? 9 : 8;
      await sql`insert into sync_changes (user_id, entity_type, entity_id, change_type, version, origin_device_id)
        select ${BIG_USER}, (${types}::text[])[1 + (i / 3) % ${spread}], gen_random_uuid(), 'UPDATE', 2, case when i % 5 = 0 then null else 'd' || (i % 3) end
        from generate_series(1, 10000) i`.execute(database.db);
    }
    await sql`analyze sync_changes`.execute(database.db);
    // Transactions of other tests on the same server may hold the visibility horizon back.
    await waitForFeedHorizon(database.db, BIG_USER, 60_000);
    const positions = await sql<{ xid: string; seq: string }>`
      select c.xid::text as xid, c.seq::text as seq from sync_changes c where c.user_id = ${BIG_USER}
      order by c.xid, c.seq offset 15000 limit 1`.execute(database.db);
    middle = positions.rows[0]!;
    head = (await feedHead(database.db, BIG_USER, ENTITY_SYNC_ORDER))!;
    const ai = await sql<{ xid: string; seq: string }>`
      select c.xid::text as xid, c.seq::text as seq from sync_changes c where c.user_id = ${BIG_USER} and c.entity_type = 'ai_usage_records'
      order by c.xid desc, c.seq desc offset 40 limit 1`.execute(database.db);
    nearAiHead = ai.rows[0]!;

    pool = new pg.Pool({ connectionString: database.databaseUrl, max: 1 });
    db = new Kysely<DB>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') captured.push(event.query);
      },
    });
  }, 120_000);

  afterAll(async () => {
    await db?.destroy();
    await database?.close();
  });

  /** Runs `query` once to capture its SQL, then EXPLAIN ANALYZEs that SQL with its parameters. */
  async function explain(query: (db: Kysely<DB>) => Promise<unknown>): Promise<PlanNode> {
    captured.length = 0;
    await query(db);
    expect(captured).toHaveLength(1);
    const { sql: text, parameters } = captured[0]!;
    const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `explain (analyze, buffers, format json) ${text}`,
      parameters as unknown[],
    );
    return rows[0]!['QUERY PLAN'][0].Plan;
  }

  function expectIndexReadsOnly(plan: PlanNode): void {
    const scans = nodes(plan).filter((n) => n['Relation Name'] === 'sync_changes');
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(scan['Node Type'], JSON.stringify(plan)).not.toBe('Seq Scan');
      expect(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']).toContain(scan['Node Type']);
    }
    const indexes = nodes(plan).flatMap((n) =>
      n['Index Name'] === undefined ? [] : [n['Index Name']],
    );
    expect(indexes.length).toBeGreaterThan(0);
    for (const index of indexes) expect(index).toMatch(/^sync_changes_/);
  }

  const everyType = (p: CursorPosition): FeedPositions =>
    new Map(ENTITY_SYNC_ORDER.map((t) => [t, p] as const));
  const only = (types: readonly EntityType[], p: CursorPosition): FeedPositions =>
    new Map(types.map((t) => [t, p] as const));

  // Positions are functions: the table's positions are known only once beforeAll ran.
  const pages: [string, () => FeedPositions, string | undefined][] = [
    ['every type from the start', () => everyType(START_POSITION), undefined],
    ['every type from the middle, leaving out a device', () => everyType(middle), 'd1'],
    ['one type (entityTypes filter)', () => only(['goals'], START_POSITION), undefined],
    [
      'three types (entityTypes filter)',
      () => only(['products', 'sessions', 'goals'], middle),
      'd2',
    ],
    [
      'per-type positions (after a filtered pull)',
      () =>
        new Map(
          ENTITY_SYNC_ORDER.map((t, i) => [t, i % 2 === 0 ? middle : START_POSITION] as const),
        ),
      undefined,
    ],
    [
      'one type far behind the others',
      () =>
        new Map(
          ENTITY_SYNC_ORDER.map((t) => [t, t === 'ai_usage_records' ? nearAiHead : head] as const),
        ),
      undefined,
    ],
  ];

  for (const [name, positions, excludeDeviceId] of pages) {
    it(`a page read (${name}) uses sync_changes indexes and reads rows bounded by the page size`, async () => {
      const plan = await explain((d) =>
        readFeed(d, { userId: BIG_USER, positions: positions(), excludeDeviceId }, LIMIT),
      );
      expectIndexReadsOnly(plan);
      expect(plan['Actual Rows']).toBeGreaterThan(0);
      // At most about a page per index range read, however many changes the user has.
      const ranges = nodes(plan).filter((n) => n['Relation Name'] === 'sync_changes').length;
      expect(rowsExamined(plan), JSON.stringify(plan)).toBeLessThanOrEqual(2 * LIMIT * ranges);
      const buffers = (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
      expect(buffers, JSON.stringify(plan)).toBeLessThanOrEqual(3 * LIMIT);
    });
  }

  for (const types of [
    [...ENTITY_SYNC_ORDER],
    ['goals'],
    ['products', 'sessions', 'goals'],
  ] as EntityType[][]) {
    it(`the feed head (${types.length} types) is one index probe per type`, async () => {
      const plan = await explain((d) => feedHead(d, BIG_USER, types));
      expectIndexReadsOnly(plan);
      const buffers = (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
      expect(buffers).toBeLessThanOrEqual(10 * types.length);
    });
  }

  it('counting pending changes reads through the indexes', async () => {
    expectIndexReadsOnly(
      await explain((d) =>
        countPending(d, { userId: BIG_USER, positions: everyType(middle), excludeDeviceId: 'd1' }),
      ),
    );
    const mixed = new Map(
      ENTITY_SYNC_ORDER.map((t, i) => [t, i % 2 === 0 ? middle : START_POSITION] as const),
    );
    expectIndexReadsOnly(
      await explain((d) =>
        countPending(d, { userId: BIG_USER, positions: mixed, excludeDeviceId: 'd1' }),
      ),
    );
  });
});
