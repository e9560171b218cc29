import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, type Database } from '../packages/server/src/db/database.ts';
import { migrateToLatest } from '../packages/server/src/db/migrate.ts';

/** Where benchmarks run: BENCH_DATABASE_URL (a PostgreSQL server), else embedded PGlite. */
export const BENCH_SERVER_URL = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];

export interface BenchDatabase extends Database {
  readonly url: string | undefined;
}

/** A fresh, migrated database: a new database on the server (dropped on close) or in-memory PGlite. */
export async function openBenchDatabase(poolSize = 8): Promise<BenchDatabase> {
  if (BENCH_SERVER_URL === undefined) {
    const database = await createDatabase({ databaseUrl: 'memory://', dataDir: '.' });
    await migrateToLatest(database.db);
    return { ...database, url: undefined };
  }
  const name = `sync_engine_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: BENCH_SERVER_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(BENCH_SERVER_URL);
  url.pathname = `/${name}`;
  const database = await createDatabase({ databaseUrl: url.toString(), dataDir: '.', poolSize });
  await migrateToLatest(database.db);
  const close = async () => {
    await database.close();
    const again = new pg.Client({ connectionString: BENCH_SERVER_URL });
    await again.connect();
    await again.query(`drop database if exists "${name}" with (force)`);
    await again.end();
  };
  return { ...database, url: url.toString(), close, [Symbol.asyncDispose]: close };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samples: number[]): { median: number; p95: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: percentile(s, 50), p95: percentile(s, 95), min: s[0] ?? 0, max: s[s.length - 1] ?? 0 };
}
