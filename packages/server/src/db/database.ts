import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { acquireDataDirLock } from './data-dir-lock.ts';
import type { DB } from './schema.ts';
import { NODE_POSTGRES_TYPES, PGLITE_PARSERS } from './type-parsers.ts';

export type DatabaseDriver = 'pglite' | 'postgres';

export interface DatabaseOptions {
  /**
   * unset → embedded PGlite persisted under `<dataDir>/pgdata`;
   * `memory://` → in-memory PGlite (tests);
   * `postgres://` / `postgresql://` → a PostgreSQL server through a pg pool.
   */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** Connections in the pg pool (PostgreSQL only; PGlite has exactly one). */
  readonly poolSize?: number | undefined;
  /** Errors of idle pooled connections (e.g. the server restarted); the pool replaces them. */
  readonly onBackgroundError?: ((error: Error) => void) | undefined;
}

export interface Database extends AsyncDisposable {
  readonly db: Kysely<DB>;
  readonly driver: DatabaseDriver;
  /** Closes the pool or the embedded database; idempotent. */
  close(): Promise<void>;
}

const DEFAULT_POOL_SIZE = 10;

function urlScheme(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return match?.[1]?.toLowerCase() ?? '';
}

function wrap(db: Kysely<DB>, driver: DatabaseDriver, onClose: () => Promise<void> = async () => {}): Database {
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= db.destroy().finally(onClose);
    return closing;
  };
  return { db, driver, close, [Symbol.asyncDispose]: close };
}

/** A PGlite instance that returns values normalised like every other driver (type-parsers.ts). */
export async function createPglite(options: Omit<PGliteOptions, 'parsers'> = {}): Promise<PGlite> {
  return PGlite.create({ ...options, parsers: PGLITE_PARSERS });
}

/**
 * A Database over a PGlite instance made by `createPglite`; closing it closes the instance.
 * For callers that need the instance itself (test fixtures cloning a migrated template).
 */
export function databaseFromPglite(pglite: PGlite, onClose?: () => Promise<void>): Database {
  return wrap(new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) }), 'pglite', async () => {
    // Kysely closes the instance only if it ever ran a query on it.
    if (!pglite.closed) await pglite.close();
    await onClose?.();
  });
}

/**
 * Opens the server's database. Whatever the driver, values come back normalised the same
 * way (see type-parsers.ts): int8/bigint/xid8 as decimal strings, double/numeric as
 * numbers, timestamptz as Date, jsonb parsed.
 *
 * PGlite is a single connection: Kysely serialises every query and transaction on it, so
 * inside `db.transaction().execute(trx => …)` use `trx` only — a query through `db` would
 * wait for the transaction to end, which waits for that query: a deadlock.
 *
 * A persisted PGlite directory is locked to one process (see data-dir-lock.ts).
 */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  const url = options.databaseUrl?.trim() || undefined;

  if (url === undefined) {
    const dataDir = path.resolve(options.dataDir, 'pgdata');
    await mkdir(dataDir, { recursive: true });
    const lock = await acquireDataDirLock(`${dataDir}.lock`);
    try {
      return databaseFromPglite(await createPglite({ dataDir }), () => lock.release());
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  const scheme = urlScheme(url);
  if (scheme === 'memory') return databaseFromPglite(await createPglite());
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      types: NODE_POSTGRES_TYPES,
      application_name: 'sync-engine',
    });
    // Without a listener, an idle connection's error (server restart, network) would be an
    // unhandled 'error' event and crash the process; the pool drops that client by itself.
    pool.on('error', (error) => options.onBackgroundError?.(error));
    // A connection lost while checked out (mid-query) fails that query and also emits
    // 'error' on the client, where the pool has no listener while it is lent out: handle it
    // here too, or a database restart during a query would crash the process.
    pool.on('connect', (client) => client.on('error', (error) => options.onBackgroundError?.(error)));
    return wrap(new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }
  // Only the scheme is echoed: the URL may carry a password.
  throw new Error(
    `DATABASE_URL must start with postgres://, postgresql:// or memory:// (got "${scheme || '(no scheme)'}:")`,
  );
}
