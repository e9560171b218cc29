import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { PushResult } from '@sync-engine/shared';
import { createTokenService } from '../../src/http/auth-tokens.ts';
import { TEST_DATABASE_URL, createTestDatabase } from '../support/test-database.ts';
import { TEST_JWT_SECRET } from '../support/test-server.ts';
import { startServerProcess } from '../support/server-process.ts';
import {
  countRows,
  eventually,
  lockRow,
  operationRow,
  productCreates,
  pushBody,
  pushUntilDone,
  remoteClient,
  uniqueUser,
} from '../support/push-fixtures.ts';

/** Real processes, restarts or thousands of pushes on 2 shared cores: more than the default minute. */
const SLOW_TEST_TIMEOUT_MS = 180_000;

const CHANGES = 1000;
const tokens = createTokenService(TEST_JWT_SECRET);
const client = (url: string) => remoteClient(url, (user) => tokens.issue(user));

/** Environment of a server process that can be killed and restarted on the same data. */
function crashEnv(extra: Record<string, string>): Record<string, string> {
  return {
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    SYNC_LOCK_STALE_MS: '1500',
    LOG_LEVEL: 'warn',
    REDIS_URL: '',
    ...extra,
  };
}

/** Checks the retried answer: every change applied exactly once across the crash. */
function expectExactlyOnce(answer: PushResult, committedBeforeCrash: number): void {
  expect(answer.failed).toEqual([]);
  expect(answer.successful).toHaveLength(CHANGES);
  const duplicate = answer.successful.filter((s) => s.outcome === 'DUPLICATE').length;
  const applied = answer.successful.filter((s) => s.outcome === 'APPLIED').length;
  // What committed before the kill is recognised by requestId; the rest is applied now.
  expect(duplicate).toBe(committedBeforeCrash);
  expect(applied).toBe(CHANGES - committedBeforeCrash);
  expect(new Set(answer.successful.map((s) => s.serverId)).size).toBe(CHANGES);
  expect(answer.idMappings).toHaveLength(CHANGES);
}

describe.skipIf(TEST_DATABASE_URL === undefined)('push: crash recovery [postgres]', () => {
  it(
    'a server SIGKILLed mid-push is restarted and the client retries the same syncOperationId until it completes: every change applied exactly once',
    { timeout: SLOW_TEST_TIMEOUT_MS },
    async () => {
      await using database = await createTestDatabase({ driver: 'postgres', poolSize: 2 });
      const db = database.db;
      const dataDir = await mkdtemp(join(tmpdir(), 'sync-engine-crash-pg-'));
      const env = crashEnv({ DATABASE_URL: database.databaseUrl!, DATA_DIR: dataDir });
      const user = uniqueUser('crash');
      const body = pushBody('phone', productCreates('crash', CHANGES));
      try {
        let committed: number;
        {
          await using first = await startServerProcess({ env });
          const inflight = client(first.url)
            .request('POST', '/api/v1/sync/push', { user, body })
            .then(
              (a) => a.status,
              () => 'connection lost',
            );
          // Kill it once some batches committed, but not all.
          await eventually(
            async () => ((await countRows(db, 'sync_changes', user)) > 0 ? true : undefined),
            60_000,
            5,
          );
          await first.stop('SIGKILL');
          expect(await inflight).toBe('connection lost');
          committed = await countRows(db, 'sync_changes', user);
          expect(committed).toBeGreaterThan(0);
          expect(committed).toBeLessThan(CHANGES);
          expect(committed % 100).toBe(0);
        }
        // What the crashed worker left: its operation IN_PROGRESS, its lock held.
        expect((await operationRow(db, user, body.syncOperationId))?.status).toBe('IN_PROGRESS');
        expect((await lockRow(db, user, 'phone'))?.lock_owner).not.toBeNull();

        await using second = await startServerProcess({ env });
        const { answer } = await pushUntilDone(client(second.url), user, body);
        expect(answer.status).toBe(200);
        expectExactlyOnce(answer.body, committed);

        expect(await countRows(db, 'products', user)).toBe(CHANGES);
        expect(await countRows(db, 'sync_changes', user)).toBe(CHANGES);
        const { rows } = await sql<{ n: number }>`
        select count(distinct entity_id)::int as n from sync_changes where user_id = ${user}`.execute(
          db,
        );
        expect(rows[0]?.n).toBe(CHANGES);
        expect(await operationRow(db, user, body.syncOperationId)).toMatchObject({
          status: 'COMPLETED',
          http_status: 200,
        });

        // Completed now: a further retry is a replay.
        const replay = await client(second.url).request<PushResult>('POST', '/api/v1/sync/push', {
          user,
          body,
        });
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(replay.body).toEqual(answer.body);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});

describe('push: crash recovery [pglite]', () => {
  it(
    'an embedded server SIGKILLed mid-push restarts on its data directory and the retried push applies every change exactly once',
    { timeout: SLOW_TEST_TIMEOUT_MS },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'sync-engine-crash-pglite-'));
      const env = crashEnv({ DATABASE_URL: '', DATA_DIR: dataDir });
      const user = uniqueUser('crash');
      const body = pushBody('phone', productCreates('crash', CHANGES));
      // Changes of the user committed so far, as another device would count them. The one
      // embedded connection answers this between two batches of a running push.
      const committedOn = async (url: string) => {
        const status = await client(url).request<{ pendingChanges: number }>(
          'GET',
          '/api/v1/sync/status?deviceId=observer',
          { user },
        );
        return status.body.pendingChanges;
      };
      try {
        {
          await using first = await startServerProcess({ env, timeoutMs: 120_000 });
          const inflight = client(first.url)
            .request('POST', '/api/v1/sync/push', { user, body })
            .then(
              (a) => a.status,
              () => 'connection lost',
            );
          await eventually(
            async () => ((await committedOn(first.url)) > 0 ? true : undefined),
            60_000,
            1,
          );
          await first.stop('SIGKILL');
          expect(await inflight).toBe('connection lost');
        }

        // The data directory's lock names a dead process now: the restart takes it over, and
        // PostgreSQL (in PGlite) recovers its files from the WAL.
        await using second = await startServerProcess({ env, timeoutMs: 120_000 });
        const committed = await committedOn(second.url);
        expect(committed).toBeGreaterThan(0);
        expect(committed).toBeLessThan(CHANGES);
        expect(committed % 100).toBe(0);

        const { answer } = await pushUntilDone(client(second.url), user, body);
        expect(answer.status).toBe(200);
        expectExactlyOnce(answer.body, committed);
        expect(await committedOn(second.url)).toBe(CHANGES);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
