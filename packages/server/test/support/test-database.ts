import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { describe } from 'vitest';
import {
  createDatabase,
  createPglite,
  databaseFromPglite,
  type Database,
  type DatabaseDriver,
} from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { DB } from '../../src/db/schema.ts';
import { pgliteTemplate } from './pglite-template.ts';

/** A PostgreSQL server for database tests (any database on it; fresh ones are created). */
export const TEST_DATABASE_URL: string | undefined = process.env['TEST_DATABASE_URL']?.trim() || undefined;

export interface TestDatabase extends AsyncDisposable {
  readonly db: Kysely<DB>;
  readonly driver: DatabaseDriver;
  /** PostgreSQL: the URL of this fresh database, to open more pools on it. PGlite: undefined. */
  readonly databaseUrl: string | undefined;
  /** Closes the connection(s) and drops the database; idempotent. Same as disposing. */
  close(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Default: `postgres` when TEST_DATABASE_URL is set, else `pglite`. */
  readonly driver?: DatabaseDriver;
  /** Apply the migrations before returning (default true). */
  readonly migrate?: boolean;
  readonly poolSize?: number;
}

/** The drivers database tests run on: PGlite always, PostgreSQL too when TEST_DATABASE_URL is set. */
export function testDatabaseDrivers(): DatabaseDriver[] {
  return TEST_DATABASE_URL === undefined ? ['pglite'] : ['pglite', 'postgres'];
}

function requireServerUrl(): string {
  if (TEST_DATABASE_URL === undefined) {
    throw new Error('createTestDatabase({ driver: "postgres" }) needs TEST_DATABASE_URL');
  }
  return TEST_DATABASE_URL;
}

async function withAdminClient<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a uniquely named database on the test server; returns its name and URL. */
async function createServerDatabase(serverUrl: string): Promise<{ name: string; url: string }> {
  const name = `sync_engine_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withAdminClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

async function dropServerDatabase(serverUrl: string, name: string): Promise<void> {
  // FORCE: a test that failed midway may leave a connection behind.
  await withAdminClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** A new in-memory PGlite holding a copy of the template (no initdb: about a second). */
async function openPgliteCopy(migrated: boolean): Promise<Database> {
  return databaseFromPglite(await createPglite({ loadDataDir: await pgliteTemplate(migrated) }));
}

/**
 * A fresh, migrated database that disappears when disposed (`await using`):
 * an in-memory PGlite, or a new database on the TEST_DATABASE_URL server, dropped afterwards.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const driver = options.driver ?? (TEST_DATABASE_URL === undefined ? 'pglite' : 'postgres');
  const dataDir = os.tmpdir(); // unused by postgres://, required by the options

  let databaseUrl: string | undefined;
  let dropDatabase = async () => {};
  if (driver === 'postgres') {
    const serverUrl = requireServerUrl();
    const created = await createServerDatabase(serverUrl);
    databaseUrl = created.url;
    dropDatabase = () => dropServerDatabase(serverUrl, created.name);
  }

  const migrate = options.migrate ?? true;
  let database: Database | undefined;
  try {
    if (databaseUrl === undefined) {
      database = await openPgliteCopy(migrate);
    } else {
      database = await createDatabase({ databaseUrl, dataDir, poolSize: options.poolSize });
      if (migrate) await migrateToLatest(database.db);
    }
  } catch (error) {
    await database?.close();
    await dropDatabase();
    throw error;
  }

  const opened = database;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= opened.close().finally(dropDatabase);
    return closing;
  };
  return { db: opened.db, driver, databaseUrl, close, [Symbol.asyncDispose]: close };
}

/** What a database test suite gets for the driver it runs on. */
export interface DatabaseTestTarget {
  readonly driver: DatabaseDriver;
  /** createTestDatabase on this target's driver. */
  readonly createTestDatabase: (options?: Omit<TestDatabaseOptions, 'driver'>) => Promise<TestDatabase>;
}

/**
 * Declares the suite once per driver (`name [pglite]`, `name [postgres]`): PGlite always,
 * PostgreSQL too when TEST_DATABASE_URL is set. Use in `*.db.test.ts` files.
 */
export function describeEachDatabase(name: string, fn: (target: DatabaseTestTarget) => void): void {
  for (const driver of testDatabaseDrivers()) {
    describe(`${name} [${driver}]`, () => {
      fn({ driver, createTestDatabase: (options = {}) => createTestDatabase({ ...options, driver }) });
    });
  }
}
