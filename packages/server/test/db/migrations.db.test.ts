import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ENTITY_REGISTRY, ENTITY_TYPES, type FieldKind } from '@sync-engine/shared';
import { createDatabase } from '../../src/db/database.ts';
import { entityColumns, isNotNullColumn } from '../../src/db/entity-rows.ts';
import { MigrationError, migrateToLatest, pendingMigrations } from '../../src/db/migrate.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import type { DB } from '../../src/db/schema.ts';
import {
  createTestDatabase,
  describeEachDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.ts';

const SYNC_TABLES = [
  'sync_operations',
  'sync_changes',
  'sync_applied_requests',
  'id_mappings',
  'sync_conflicts',
  'sync_states',
  'outbox_events',
] as const;

/** The rule migrations follow: the column type of each field kind, as information_schema names it. */
const SQL_TYPE_OF_KIND: Record<FieldKind, string> = {
  text: 'text',
  integer: 'integer',
  number: 'double precision',
  boolean: 'boolean',
  timestamp: 'timestamp with time zone',
  'text[]': 'jsonb',
  json: 'jsonb',
  ref: 'uuid',
};

const BASE_COLUMN_TYPES = {
  id: { type: 'uuid', notNull: true },
  user_id: { type: 'text', notNull: true },
  version: { type: 'integer', notNull: true },
  created_at: { type: 'timestamp with time zone', notNull: true },
  updated_at: { type: 'timestamp with time zone', notNull: true },
  deleted_at: { type: 'timestamp with time zone', notNull: false },
} as const;

interface ColumnInfo {
  type: string;
  notNull: boolean;
}

async function tableNames(db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
  return rows.map((r) => r.table_name).sort();
}

async function columnsOf(db: Kysely<DB>, table: string): Promise<Map<string, ColumnInfo>> {
  const { rows } = await sql<{ column_name: string; data_type: string; is_nullable: string }>`
    select column_name, data_type, is_nullable from information_schema.columns
    where table_schema = current_schema() and table_name = ${table}`.execute(db);
  return new Map(rows.map((r) => [r.column_name, { type: r.data_type, notNull: r.is_nullable === 'NO' }]));
}

async function indexNames(db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ indexname: string }>`
    select indexname from pg_indexes where schemaname = current_schema()`.execute(db);
  return rows.map((r) => r.indexname);
}

describeEachDatabase('migrations', ({ createTestDatabase: create }) => {
  describe('the migrated schema', () => {
    // Read-only checks share one database; tests that write get their own.
    let t: TestDatabase;
    beforeAll(async () => {
      t = await create();
    });
    afterAll(() => t.close());

    test('has a table per entity type and every sync table', async () => {
      const tables = await tableNames(t.db);
      for (const table of [...ENTITY_TYPES, ...SYNC_TABLES]) expect(tables).toContain(table);
    });

    test.each(ENTITY_TYPES)('%s has exactly the server-managed columns and one column per registry field', async (type) => {
      const actual = await columnsOf(t.db, ENTITY_REGISTRY[type].table);
      const expected = new Map<string, ColumnInfo>(Object.entries(BASE_COLUMN_TYPES));
      for (const { column, spec } of entityColumns(type)) {
        expected.set(column, { type: SQL_TYPE_OF_KIND[spec.kind], notNull: isNotNullColumn(spec) });
      }
      expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
    });

    test.each(ENTITY_TYPES)('%s: a row given only its required columns reads back the registry defaults', async (type) => {
      const id = crypto.randomUUID();
      const required: Record<string, unknown> = { id, user_id: 'u1' };
      const sample: Partial<Record<FieldKind, unknown>> = {
        text: 'x',
        timestamp: '2024-01-01T00:00:00.000Z',
        ref: crypto.randomUUID(),
      };
      for (const { column, spec } of entityColumns(type)) {
        if (isNotNullColumn(spec) && spec.defaultValue === null) required[column] = sample[spec.kind];
      }
      const columns = Object.keys(required);
      await sql`insert into ${sql.table(type)} (${sql.join(columns.map((c) => sql.ref(c)))})
                values (${sql.join(columns.map((c) => required[c]))})`.execute(t.db);
      const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(type)} where id = ${id}`.execute(t.db);
      const row = rows[0];
      expect(row?.['version']).toBe(1);
      expect(row?.['deleted_at']).toBeNull();
      expect(row?.['created_at']).toBeInstanceOf(Date);
      for (const { column, spec } of entityColumns(type)) {
        if (column in required) continue;
        expect({ column, value: row?.[column] }).toEqual({ column, value: spec.defaultValue });
      }
    });

    test('has the indexes pulls, batch loads and catalog reads rely on', async () => {
      const indexes = await indexNames(t.db);
      for (const type of ENTITY_TYPES) expect(indexes).toContain(`${type}_user_id_id_idx`);
      expect(indexes).toEqual(
        expect.arrayContaining([
          'sync_changes_user_id_xid_seq_idx',
          'sync_changes_user_id_entity_type_xid_seq_idx',
          'devices_user_id_mac_address_idx',
          'products_is_public_idx',
          'consumptions_user_id_session_id_idx',
          'id_mappings_user_id_entity_type_server_id_idx',
          'sync_conflicts_user_id_status_created_at_id_idx',
          'outbox_events_status_next_attempt_at_idx',
        ]),
      );
    });

    test('stamps each sync_changes row with its transaction id (xid8) and an identity sequence', async () => {
      const columns = await columnsOf(t.db, 'sync_changes');
      expect(columns.get('xid')).toEqual({ type: 'xid8', notNull: true });
      expect(columns.get('seq')).toEqual({ type: 'bigint', notNull: true });
    });
  });

  test('migrating an up-to-date database is a no-op', async () => {
    await using t = await create({ migrate: false });
    expect(await pendingMigrations(t.db)).toEqual(Object.keys(MIGRATIONS));
    expect(await migrateToLatest(t.db)).toEqual(Object.keys(MIGRATIONS));
    const before = await tableNames(t.db);
    expect(await migrateToLatest(t.db)).toEqual([]);
    expect(await pendingMigrations(t.db)).toEqual([]);
    expect(await tableNames(t.db)).toEqual(before);
  });

  test('concurrent migrateToLatest calls on one connection both succeed, applying once', async () => {
    await using t = await create({ migrate: false });
    const results = await Promise.all([migrateToLatest(t.db), migrateToLatest(t.db)]);
    expect(results.flat()).toEqual(Object.keys(MIGRATIONS));
  });

  test('a failing migration throws MigrationError naming it, and applies nothing of the run', async () => {
    await using t = await create({ migrate: false });
    const migrations = {
      ...MIGRATIONS,
      '9999-broken': {
        async up(db: Kysely<unknown>) {
          await db.schema.createTable('half_done').addColumn('x', 'integer').execute();
          await sql`select no_such_function()`.execute(db);
        },
      },
    };
    const failure = await migrateToLatest(t.db, { migrations }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migrationName).toBe('9999-broken');
    expect((failure as MigrationError).message).toMatch(/^Database migration "9999-broken" failed: .*no_such_function/);
    // One transaction for the whole run: the earlier migrations rolled back too.
    expect(await tableNames(t.db)).not.toContain('half_done');
    expect(await pendingMigrations(t.db)).toEqual(Object.keys(MIGRATIONS));
  });
});

describe.runIf(TEST_DATABASE_URL !== undefined)('migrations on one PostgreSQL database from several processes', () => {
  test('concurrent migrateToLatest from separate pools all succeed and apply each migration once', async () => {
    await using t = await createTestDatabase({ driver: 'postgres', migrate: false });
    const servers = await Promise.all(
      Array.from({ length: 4 }, () => createDatabase({ databaseUrl: t.databaseUrl, dataDir: '.', poolSize: 2 })),
    );
    try {
      const applied = await Promise.all(servers.map((s) => migrateToLatest(s.db)));
      expect(applied.flat()).toEqual(Object.keys(MIGRATIONS));
      expect(await pendingMigrations(t.db)).toEqual([]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});

