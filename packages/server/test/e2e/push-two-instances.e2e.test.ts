import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/http/auth-tokens.ts';
import {
  TEST_DATABASE_URL,
  createTestDatabase,
  type TestDatabase,
} from '../support/test-database.ts';
import { TEST_JWT_SECRET } from '../support/test-server.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import {
  countRows,
  create,
  expectPushResult,
  productCreates,
  push,
  remoteClient,
  uniqueUser,
  type ChangeBody,
} from '../support/push-fixtures.ts';

/** Real processes, restarts or thousands of pushes on 2 shared cores: more than the default minute. */
const SLOW_TEST_TIMEOUT_MS = 180_000;

const ROUNDS = 25;
const tokens = createTokenService(TEST_JWT_SECRET);

/** No entity of `user` was created twice: one row per client id mapping, one outbox row per entity CREATE. */
async function expectNoDuplicates(
  db: Parameters<typeof countRows>[0],
  user: string,
  expected: number,
): Promise<void> {
  expect(await countRows(db, 'products', user)).toBe(expected);
  expect(await countRows(db, 'id_mappings', user)).toBe(expected);
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from sync_changes where user_id = ${user} and change_type = 'CREATE'`.execute(
    db,
  );
  expect(rows[0]?.n).toBe(expected);
}

describe.skipIf(TEST_DATABASE_URL === undefined)(
  'push: two server processes on one PostgreSQL database [postgres]',
  () => {
    let database: TestDatabase;
    let dataDir: string;
    let processes: ServerProcess[] = [];
    let a: ReturnType<typeof remoteClient>;
    let b: ReturnType<typeof remoteClient>;
    beforeAll(async () => {
      database = await createTestDatabase({ driver: 'postgres', poolSize: 2 });
      dataDir = await mkdtemp(join(tmpdir(), 'sync-engine-two-'));
      const env = {
        DATABASE_URL: database.databaseUrl!,
        DATA_DIR: dataDir,
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'warn',
        REDIS_URL: '',
      };
      processes = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
      [a, b] = processes.map((p) => remoteClient(p.url, (u) => tokens.issue(u))) as [
        typeof a,
        typeof b,
      ];
    });
    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop('SIGTERM')));
      await database?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it(
      'the same user+device pushing through both at once gets one 409 or serial success, never a duplicate or a 500',
      { timeout: SLOW_TEST_TIMEOUT_MS },
      async () => {
        const user = uniqueUser('two');
        const seen = { refused: 0, serial: 0 };

        for (let round = 0; round < ROUNDS; round++) {
          // The same changes (same requestIds) under two syncOperationIds, one per instance.
          const changes: ChangeBody[] = productCreates(`r${round}`, 50);
          const [x, y] = await Promise.all([
            push(a, user, 'phone', changes),
            push(b, user, 'phone', changes),
          ]);
          const statuses = [x.status, y.status].sort();
          expect([
            [200, 200],
            [200, 409],
          ]).toContainEqual(statuses);
          if (statuses[1] === 409) {
            seen.refused++;
            const refused = x.status === 409 ? x : y;
            expect(refused.body).toMatchObject({ error: { code: 'SYNC_IN_PROGRESS' } });
            expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
            const winner = x.status === 200 ? x : y;
            expect(winner.body.successful.every((s) => s.outcome === 'APPLIED')).toBe(true);
          } else {
            seen.serial++;
            // One ran after the other: the later one found every requestId applied.
            const outcomes = [x, y]
              .map((r) => [...new Set(r.body.successful.map((s) => s.outcome))])
              .sort();
            expect(outcomes).toEqual([['APPLIED'], ['DUPLICATE']]);
            expect(x.body.idMappings).toEqual(y.body.idMappings);
          }
          await expectNoDuplicates(database.db, user, 50 * (round + 1));
        }

        // The same syncOperationId through both at once: a 409, or the second is a replay.
        for (let round = 0; round < 10; round++) {
          const syncOperationId = randomUUID();
          const changes = [create('goals', `g${round}`, { name: 'g' })];
          const [x, y] = await Promise.all([
            push(a, user, 'tablet', changes, { syncOperationId }),
            push(b, user, 'tablet', changes, { syncOperationId }),
          ]);
          for (const r of [x, y]) expect([200, 409]).toContain(r.status);
          const ok = [x, y].filter((r) => r.status === 200);
          expect(ok.length).toBeGreaterThanOrEqual(1);
          if (ok.length === 2)
            expect(ok.map((r) => r.headers.get('idempotent-replayed')).sort()).toEqual(
              ['true', null].sort(),
            );
        }
        expect(await countRows(database.db, 'goals', user)).toBe(10);
        // Both branches are legal; with 25 rounds at least one kind showed up.
        expect(seen.refused + seen.serial).toBe(ROUNDS);
      },
    );

    it(
      'two devices of one user creating the same client ids at once through the two instances create each entity once',
      { timeout: SLOW_TEST_TIMEOUT_MS },
      async () => {
        const user = uniqueUser('two');
        for (let round = 0; round < 10; round++) {
          const changes = productCreates(`shared${round}`, 150);
          const [x, y] = await Promise.all([
            push(a, user, 'phone', changes),
            push(b, user, 'tablet', changes),
          ]);
          expect([x.status, y.status]).toEqual([200, 200]);
          const results = [expectPushResult(x), expectPushResult(y)];
          // Each client id was created by exactly one of them; the other answered DUPLICATE with the same server id.
          for (let i = 0; i < 150; i++) {
            const entries = results.map((r) => r.successful[i]!);
            expect(entries.map((e) => e.outcome).sort()).toEqual(['APPLIED', 'DUPLICATE']);
            expect(entries[0]!.serverId).toBe(entries[1]!.serverId);
          }
          await expectNoDuplicates(database.db, user, 150 * (round + 1));
        }
      },
    );
  },
);
