import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { DB } from '../../src/db/schema.ts';
import { NODE_POSTGRES_TYPES } from '../../src/db/type-parsers.ts';
import { PUSH_BATCH_SIZE } from '../../src/sync/push/process-changes.ts';
import {
  TEST_DATABASE_URL,
  createTestDatabase,
  type TestDatabase,
} from '../support/test-database.ts';
import { startTestServer } from '../support/test-server.ts';
import {
  create,
  productCreates,
  pushOk,
  remove,
  uniqueUser,
  update,
  type ChangeBody,
} from '../support/push-fixtures.ts';

/** The most SQL round trips one batch transaction (≤ 100 changes) may cost, BEGIN and COMMIT included. */
const MAX_QUERIES_PER_BATCH = 40;

/**
 * Counts the queries a push sends over the server's pool: each pg client's `query` is wrapped
 * as the pool opens it. A batch transaction is the queries from BEGIN to COMMIT on one client.
 */
class QueryCounter {
  private outside = 0;
  private readonly open = new Map<pg.PoolClient, { n: number; push: boolean | undefined }>();
  private transactions: number[] = [];

  wrap(client: pg.PoolClient): void {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (
      ...args: unknown[]
    ) => {
      this.record(
        client,
        typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: unknown }).text),
      );
      return query(...args);
    };
  }

  private record(client: pg.PoolClient, text: string): void {
    const verb = text.trim().split(/\s+/, 1)[0]?.toLowerCase();
    const tx = this.open.get(client);
    if (verb === 'begin') {
      this.open.set(client, { n: 1, push: undefined });
    } else if (tx) {
      tx.n++;
      // A push batch opens with its fencing check; other transactions are not the push's.
      tx.push ??= /from sync_states/.test(text) && /for share/i.test(text);
      if (verb === 'commit' || verb === 'rollback') {
        this.open.delete(client);
        if (tx.push) this.transactions.push(tx.n);
      }
    } else if (
      /\bsync_(operations|states)\b/.test(text) &&
      !/update sync_(states set lock_expires_at|operations set heartbeat_at)/.test(text)
    ) {
      // The push's own statements outside its batches (idempotency claim, lock, answer).
      // Heartbeats depend on the clock, not the push; the rest is background work of the
      // server (outbox delivery, health).
      this.outside++;
    }
  }

  /** Starts a measurement; `take` returns what happened since. */
  start(): { take(): { transactions: number[]; outside: number; total: number } } {
    this.outside = 0;
    this.transactions = [];
    return {
      take: () => ({
        transactions: [...this.transactions],
        outside: this.outside,
        total: this.outside + this.transactions.reduce((a, b) => a + b, 0),
      }),
    };
  }
}

/** A migrated fresh PostgreSQL database whose pool counts the server's queries. */
async function countingDatabase(): Promise<{ database: TestDatabase; counter: QueryCounter }> {
  const fresh = await createTestDatabase({ driver: 'postgres' });
  const counter = new QueryCounter();
  const pool = new pg.Pool({
    connectionString: fresh.databaseUrl,
    max: 4,
    types: NODE_POSTGRES_TYPES,
  });
  pool.on('connect', (client) => counter.wrap(client));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= db.destroy().finally(() => fresh.close()));
  return {
    database: {
      db,
      driver: 'postgres',
      databaseUrl: fresh.databaseUrl,
      close,
      [Symbol.asyncDispose]: close,
    },
    counter,
  };
}

describe.skipIf(TEST_DATABASE_URL === undefined)(
  'push: SQL round trips per batch [postgres]',
  () => {
    it('a 1,000-change push costs a fixed number of queries per 100-change batch, the same per batch as a 200-change push', async () => {
      const { database, counter } = await countingDatabase();
      await using _db = database;
      await using server = await startTestServer({ database });
      const user = uniqueUser('rt');

      const small = counter.start();
      await pushOk(server, user, 'd1', productCreates('small', 200));
      const s = small.take();
      const large = counter.start();
      const result = await pushOk(server, user, 'd1', productCreates('large', 1000));
      const l = large.take();
      expect(result.successful).toHaveLength(1000);

      expect(s.transactions).toHaveLength(200 / PUSH_BATCH_SIZE);
      expect(l.transactions).toHaveLength(1000 / PUSH_BATCH_SIZE);
      // Every batch costs the same, whatever the push's size, and the push itself a fixed overhead.
      const perBatch = l.transactions[0]!;
      expect(new Set([...s.transactions, ...l.transactions])).toEqual(new Set([perBatch]));
      expect(perBatch).toBeLessThanOrEqual(MAX_QUERIES_PER_BATCH);
      expect(l.outside).toBe(s.outside);
      expect(l.outside).toBeLessThanOrEqual(10);
      expect(l.total).toBeLessThanOrEqual(10 * MAX_QUERIES_PER_BATCH);
    });

    it('mixed entity types, FKs, conflicts, deletes and session recomputes stay within the per-batch bound', async () => {
      const { database, counter } = await countingDatabase();
      await using _db = database;
      await using server = await startTestServer({ database });
      const user = uniqueUser('rt');
      const n = (count: number, f: (i: number) => ChangeBody) =>
        Array.from({ length: count }, (_, i) => f(i));
      const T = (i: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();

      const creates = [
        ...n(100, (i) => create('products', `p${i}`, { name: `p${i}` })),
        ...n(100, (i) =>
          create('devices', `dv${i}`, { deviceName: `dv${i}`, macAddress: `mac-${i}` }),
        ),
        ...n(100, (i) => create('sessions', `s${i}`, { productId: `p${i}`, deviceId: `dv${i}` })),
        ...n(300, (i) =>
          create('consumptions', `c${i}`, {
            timestamp: T(i),
            sessionId: `s${i % 100}`,
            productId: `p${i % 100}`,
          }),
        ),
        ...n(100, (i) =>
          create('journal_entries', `j${i}`, { content: 'x', consumptionId: `c${i}`, tags: ['a'] }),
        ),
        ...n(100, (i) =>
          create('purchases', `pu${i}`, { quantityPurchased: 1, productId: `p${i}` }),
        ),
        ...n(100, (i) => create('goals', `g${i}`, { name: `g${i}`, currentValue: i })),
        ...n(100, (i) =>
          create('ai_usage_records', `ai${i}`, { model: 'm', inputTokens: i, timestamp: T(i) }),
        ),
      ].reverse();
      const mixed = counter.start();
      const created = await pushOk(server, user, 'phone', creates);
      const m = mixed.take();
      expect(created.failed).toEqual([]);
      expect(m.transactions).toHaveLength(10);

      await pushOk(
        server,
        user,
        'tablet',
        n(100, (i) => update('goals', `g${i}`, 1, { currentValue: 1000 + i })),
      );
      const conflicting = counter.start();
      const stale = await pushOk(server, user, 'phone', [
        ...n(100, (i) =>
          update('goals', `g${i}`, 1, { currentValue: 5000 + i, name: `renamed ${i}` }),
        ),
        ...n(100, (i) => update('sessions', `s${i}`, 1, { notes: 'n' })),
        ...n(100, (i) => remove('consumptions', `c${i}`, 1)),
        ...n(100, (i) => update('journal_entries', `j${i}`, 1, { tags: ['b'] })),
      ]);
      const c = conflicting.take();
      expect(stale.conflicts.length).toBeGreaterThanOrEqual(100);
      expect(c.transactions).toHaveLength(4);

      for (const t of [...m.transactions, ...c.transactions])
        expect(t).toBeLessThanOrEqual(MAX_QUERIES_PER_BATCH);
      expect(m.outside).toBeLessThanOrEqual(10);
      expect(c.outside).toBeLessThanOrEqual(10);
    });
  },
);
