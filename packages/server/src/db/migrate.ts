import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResult } from 'kysely/migration';
import { MIGRATIONS } from './migrations/index.ts';
import type { DB } from './schema.ts';

/** A migration run failed; `migrationName` is the migration that failed, when one did. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly migrationName: string | undefined,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

export interface MigrateOptions {
  /** The migrations to apply; the committed ones unless a test substitutes its own. */
  readonly migrations?: Readonly<Record<string, Migration>>;
}

function createMigrator(db: Kysely<DB>, migrations: Readonly<Record<string, Migration>>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Brings the database to the latest schema; a no-op when it is already there. Returns the
 * names of the migrations it applied, in order.
 *
 * Safe to run from several processes at once on one PostgreSQL database: Kysely's Migrator
 * takes a session-level `pg_advisory_lock` (its PostgresAdapter) on one connection for the
 * whole run, re-reads which migrations have been applied only after it holds the lock, and
 * applies the pending ones in a single transaction, so the losers of the race wait, then find
 * nothing to do. (The bookkeeping tables it creates before locking use IF NOT EXISTS and
 * tolerate a concurrent creator.) PGlite is single-connection, so Kysely skips the lock there.
 *
 * @throws MigrationError naming the failed migration; nothing of a failed run is applied.
 */
export async function migrateToLatest(db: Kysely<DB>, options: MigrateOptions = {}): Promise<string[]> {
  const { error, results = [] } = await createMigrator(db, options.migrations ?? MIGRATIONS).migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r: MigrationResult) => r.status === 'Error')?.migrationName;
    const what = failed === undefined ? 'Database migration failed' : `Database migration "${failed}" failed`;
    throw new MigrationError(`${what}: ${describeCause(error)}`, failed, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of the migrations not yet applied (empty when the schema is current); for readiness checks. */
export async function pendingMigrations(db: Kysely<DB>, options: MigrateOptions = {}): Promise<string[]> {
  const migrations = await createMigrator(db, options.migrations ?? MIGRATIONS).getMigrations();
  return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
