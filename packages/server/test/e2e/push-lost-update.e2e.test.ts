import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { PushResult } from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  conflictRows,
  create,
  entityState,
  expectPushResult,
  pushBody,
  pushOk,
  serverIdOf,
  syncChanges,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';

/** Real processes, restarts or thousands of pushes on 2 shared cores: more than the default minute. */
const SLOW_TEST_TIMEOUT_MS = 180_000;

const DEVICES = 20;
/** 200 rounds on PostgreSQL (a pool, real concurrency); PGlite serialises everything, so fewer. */
const ROUNDS = { postgres: 200, pglite: 25 } as const;

describeEachDatabase('push: lost-update race', (target) => {
  const server = useSharedServer(target);
  const db = () => server().database.db;

  it(
    `${DEVICES} devices updating one goal from the same base version at once: exactly one plain apply per base version, the rest conflicts merged by MAX_VALUE, no update lost`,
    { timeout: SLOW_TEST_TIMEOUT_MS },
    async () => {
      const rounds = ROUNDS[target.driver];
      const user = uniqueUser('race');
      const token = await server().token(user);
      const goalId = serverIdOf(
        await pushOk(server(), user, 'd0', [
          create('goals', 'g', { name: 'steps', currentValue: 0 }),
        ]),
        'goals',
        'g',
      );

      let base = 1;
      let applied = 0;
      let merged = 0;
      let conflicts = 0;
      for (let round = 1; round <= rounds; round++) {
        const answers = await Promise.all(
          Array.from({ length: DEVICES }, (_, d) =>
            server().request<PushResult>('POST', '/api/v1/sync/push', {
              token,
              body: pushBody(
                `d${d}`,
                [
                  update(
                    'goals',
                    goalId,
                    base,
                    { currentValue: round * 100 + d },
                    `r${round}-d${d}`,
                  ),
                ],
                randomUUID(),
              ),
            }),
          ),
        );
        const results = answers.map((a) => expectPushResult(a));
        const plain = results.flatMap((r) => r.successful);
        const roundConflicts = results.flatMap((r) => r.conflicts);
        // Exactly one UPDATE made on top of `base` is applied as is; the 19 others see a newer
        // version under the row lock and are merged.
        expect(plain.map((s) => s.outcome)).toEqual(['APPLIED']);
        expect(plain[0]?.version).toBe(base + 1);
        expect(roundConflicts).toHaveLength(DEVICES - 1);
        expect(results.every((r) => r.failed.length === 0)).toBe(true);
        for (const c of roundConflicts) {
          expect(c).toMatchObject({
            outcome: 'ADOPT_SERVER',
            strategy: 'MERGE',
            clientVersion: base,
          });
          expect(c.serverVersion).toBeGreaterThan(base);
          const resolvedVersion = (c.resolvedState as { version: number }).version;
          expect([c.serverVersion, c.serverVersion + 1]).toContain(resolvedVersion);
          if (resolvedVersion === c.serverVersion + 1) merged++;
        }
        applied++;
        conflicts += roundConflicts.length;
        const state = await entityState(db(), 'goals', user, goalId);
        // MAX_VALUE: whatever the commit order, the largest value of the round survives.
        expect(state?.currentValue).toBe(round * 100 + DEVICES - 1);
        base = state!.version;
      }

      const goal = await entityState(db(), 'goals', user, goalId);
      const outbox = (await syncChanges(db(), user)).filter((c) => c.entity_id === goalId);
      // Every applied change (plain or merged) is one version step and one outbox row.
      expect(goal?.version).toBe(1 + applied + merged);
      expect(outbox).toHaveLength(goal!.version);
      // One row per version, none missing or repeated. (The feed is in commit-transaction order,
      // not version order: a transaction that began first may have waited for the row lock.)
      expect(outbox.map((c) => c.version).sort((a, b) => a - b)).toEqual(
        Array.from({ length: goal!.version }, (_, i) => i + 1),
      );
      expect(outbox.filter((c) => c.origin_device_id === null)).toHaveLength(merged);

      const recorded = await conflictRows(db(), user);
      expect(recorded).toHaveLength(conflicts);
      expect(recorded.every((r) => r.status === 'RESOLVED' && r.resolution === 'AUTO')).toBe(true);
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from sync_applied_requests where user_id = ${user} and entity_type = 'goals'`.execute(
        db(),
      );
      expect(rows[0]?.n).toBe(1 + applied);
    },
  );
});
