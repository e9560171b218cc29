import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createDatabase } from '../../src/db/database.ts';
import { toJsonb } from '../../src/db/jsonb.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { describeEachDatabase, type TestDatabase } from '../support/test-database.ts';

describeEachDatabase('database values', ({ createTestDatabase }) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.close());

  test('come back with the same JavaScript types on every driver', async () => {
    const { rows } = await sql<Record<string, unknown>>`
      select 1::int8 as small_int8, 9223372036854775807::int8 as max_int8, 42::int4 as int4,
             1.5::numeric as numeric, 2.25::float8 as float8, true as bool,
             '2024-05-06T07:08:09.123Z'::timestamptz as ts, '{"a":[1,"x",null]}'::jsonb as obj,
             '["a","b"]'::jsonb as arr, pg_current_xact_id() as xid,
             '00000000-0000-4000-8000-000000000001'::uuid as uuid,
             (select count(*) from generate_series(1, 3)) as count,
             (select avg(x) from generate_series(1, 2) x) as avg`.execute(t.db);
    expect(rows[0]).toEqual({
      small_int8: '1',
      max_int8: '9223372036854775807',
      int4: 42,
      numeric: 1.5,
      float8: 2.25,
      bool: true,
      ts: new Date('2024-05-06T07:08:09.123Z'),
      obj: { a: [1, 'x', null] },
      arr: ['a', 'b'],
      xid: expect.stringMatching(/^\d+$/) as unknown,
      uuid: '00000000-0000-4000-8000-000000000001',
      count: '3',
      avg: 1.5,
    });
  });

  test('accept ISO strings and Dates for timestamptz, JSON text for jsonb and strings for bigint', async () => {
    const iso = '2024-02-29T23:59:59.999+02:00';
    const { rows } = await sql<Record<string, unknown>>`
      select ${iso}::timestamptz as from_iso, ${new Date(iso)}::timestamptz as from_date,
             ${toJsonb(['x', { y: 1 }])}::jsonb as arr, ${toJsonb('just text')}::jsonb as str,
             ${'9223372036854775807'}::int8 as big`.execute(t.db);
    expect(rows[0]).toEqual({
      from_iso: new Date('2024-02-29T21:59:59.999Z'),
      from_date: new Date('2024-02-29T21:59:59.999Z'),
      arr: ['x', { y: 1 }],
      str: 'just text',
      big: '9223372036854775807',
    });
  });

  test('an identity bigint column reads back as a decimal string', async () => {
    const row = await t.db
      .insertInto('outbox_events')
      .values({ event_type: 'test', payload: toJsonb({ n: 1 }) })
      .returning(['id', 'payload', 'attempts', 'next_attempt_at'])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      id: expect.stringMatching(/^\d+$/) as unknown,
      payload: { n: 1 },
      attempts: 0,
      next_attempt_at: expect.any(Date) as unknown,
    });
  });
});

describeEachDatabase('transactions', ({ createTestDatabase }) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(() => t.close());

  const countStates = async () =>
    Number((await t.db.selectFrom('sync_states').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('a transaction that throws leaves nothing behind', async () => {
    await expect(
      t.db.transaction().execute(async (trx) => {
        await trx.insertInto('sync_states').values({ user_id: 'u', device_id: 'd' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await countStates()).toBe(0);
  });

  test('a query outside an open transaction never sees (or joins) its uncommitted writes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
    const tx = t.db.transaction().execute(async (trx) => {
      await trx.insertInto('sync_states').values({ user_id: 'u', device_id: 'd' }).execute();
      inserted();
      await gate;
      throw new Error('roll back');
    });
    await insertedSignal;
    // On PGlite this waits for the transaction (one connection); on PostgreSQL it runs now.
    const outside = countStates();
    release();
    await expect(tx).rejects.toThrow('roll back');
    expect(await outside).toBe(0);
  });

  test('concurrent transactions each commit their own writes', async () => {
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        t.db.transaction().execute(async (trx) => {
          await trx.insertInto('sync_states').values({ user_id: 'u', device_id: `d${i}` }).execute();
          await trx
            .updateTable('sync_states')
            .set({ fencing_token: sql<string>`fencing_token + 1` })
            .where('device_id', '=', `d${i}`)
            .execute();
        }),
      ),
    );
    const rows = await t.db.selectFrom('sync_states').select(['device_id', 'fencing_token']).orderBy('device_id').execute();
    expect(rows).toEqual(Array.from({ length: 5 }, (_, i) => ({ device_id: `d${i}`, fencing_token: '1' })));
  });
});

describe('createDatabase', () => {
  test('rejects an unsupported URL without echoing its credentials', async () => {
    const failure = createDatabase({ databaseUrl: 'mysql://app:s3cret@db/app', dataDir: '.' });
    await expect(failure).rejects.toThrow(/postgres:\/\/, postgresql:\/\/ or memory:\/\/ \(got "mysql:"\)/);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });

  describe('embedded PGlite under DATA_DIR', () => {
    let dataDir: string;
    beforeEach(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'sync-engine-db-'));
    });
    afterEach(() => rm(dataDir, { recursive: true, force: true }));

    test('persists across restarts and is held by one opener at a time', async () => {
      const first = await createDatabase({ dataDir });
      expect(first.driver).toBe('pglite');
      await migrateToLatest(first.db);
      await first.db.insertInto('sync_states').values({ user_id: 'u', device_id: 'd' }).execute();
      await expect(createDatabase({ dataDir })).rejects.toThrow(/already held by this process/);
      await first.close();

      await using second = await createDatabase({ dataDir });
      const rows = await second.db.selectFrom('sync_states').select('device_id').execute();
      expect(rows).toEqual([{ device_id: 'd' }]);
    });

    test('refuses a directory another live process holds, and takes over a dead one', async () => {
      const lockFile = path.join(dataDir, 'pgdata.lock');
      await writeFile(lockFile, String(process.ppid));
      await expect(createDatabase({ dataDir })).rejects.toThrow(`in use by process ${process.ppid}`);

      const exited = spawnSync(process.execPath, ['-e', '0']);
      await writeFile(lockFile, String(exited.pid));
      await using database = await createDatabase({ dataDir });
      expect(database.driver).toBe('pglite');
    });
  });
});
