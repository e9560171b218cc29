import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { PullResult } from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  BeforeCommitHooks,
  create,
  deferred,
  eventually,
  entityState,
  pushOk,
  remove,
  serverIdOf,
  syncChanges,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';

const at = (seconds: number) => new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString();

describeEachDatabase("push: sessions' server-derived aggregates", (target) => {
  const hooks = new BeforeCommitHooks();
  const server = useSharedServer(target, { testHooks: { beforeCommit: hooks.beforeCommit } });
  const db = () => server().database.db;

  it('eventCount, sessionStart/EndTimestamp and totalDurationMs follow the live consumptions as they are created, moved and deleted', async () => {
    const user = uniqueUser('agg');
    const first = await pushOk(server(), user, 'phone', [
      create('consumptions', 'c1', { timestamp: at(0), sessionId: 's1' }),
      create('consumptions', 'c2', { timestamp: at(90), sessionId: 's1' }),
      create('sessions', 's1', {}),
      create('sessions', 's2', {}),
    ]);
    const [s1, s2] = [serverIdOf(first, 'sessions', 's1'), serverIdOf(first, 'sessions', 's2')];
    expect(await entityState(db(), 'sessions', user, s1)).toMatchObject({
      eventCount: 2,
      sessionStartTimestamp: at(0),
      sessionEndTimestamp: at(90),
      totalDurationMs: 90_000,
      version: 2,
    });
    expect(await entityState(db(), 'sessions', user, s2)).toMatchObject({
      eventCount: 0,
      sessionStartTimestamp: null,
      sessionEndTimestamp: null,
      totalDurationMs: 0,
      version: 1,
    });

    await pushOk(server(), user, 'phone', [
      create('consumptions', 'c3', { timestamp: at(-30), sessionId: 's1' }),
    ]);
    expect(await entityState(db(), 'sessions', user, s1)).toMatchObject({
      eventCount: 3,
      sessionStartTimestamp: at(-30),
      totalDurationMs: 120_000,
      version: 3,
    });

    // Moving c3 to s2 recomputes both sessions.
    await pushOk(server(), user, 'tablet', [update('consumptions', 'c3', 1, { sessionId: 's2' })]);
    expect(await entityState(db(), 'sessions', user, s1)).toMatchObject({
      eventCount: 2,
      sessionStartTimestamp: at(0),
      totalDurationMs: 90_000,
      version: 4,
    });
    expect(await entityState(db(), 'sessions', user, s2)).toMatchObject({
      eventCount: 1,
      sessionStartTimestamp: at(-30),
      sessionEndTimestamp: at(-30),
      totalDurationMs: 0,
      version: 2,
    });

    // A deleted consumption no longer counts.
    await pushOk(server(), user, 'phone', [remove('consumptions', 'c2', 1)]);
    expect(await entityState(db(), 'sessions', user, s1)).toMatchObject({
      eventCount: 1,
      sessionEndTimestamp: at(0),
      totalDurationMs: 0,
      version: 5,
    });

    // A change that moves no aggregate leaves the session alone.
    await pushOk(server(), user, 'phone', [update('consumptions', 'c1', 1, { notes: 'tasty' })]);
    expect((await entityState(db(), 'sessions', user, s1))?.version).toBe(5);
  });

  it('the recomputation is a server-authored change (origin_device_id null) that every device pulls, the pushing device too', async () => {
    const user = uniqueUser('agg');
    const pushed = await pushOk(server(), user, 'phone', [
      create('sessions', 's', {}),
      create('consumptions', 'c1', { timestamp: at(0), sessionId: 's' }),
      create('consumptions', 'c2', { timestamp: at(60), sessionId: 's' }),
    ]);
    const sessionId = serverIdOf(pushed, 'sessions', 's');
    const sessionChanges = (await syncChanges(db(), user)).filter((c) => c.entity_id === sessionId);
    expect(sessionChanges.map((c) => [c.change_type, c.version, c.origin_device_id])).toEqual([
      ['CREATE', 1, 'phone'],
      ['UPDATE', 2, null],
    ]);

    // The phone already has its own changes; it still pulls what the server derived.
    const own = await server().request<PullResult>('GET', '/api/v1/sync/changes?deviceId=phone', {
      user,
    });
    expect(
      own.body.changes.map((c) => [c.entityType, c.changeType, c.version, c.originDeviceId]),
    ).toEqual([['sessions', 'UPDATE', 2, null]]);
    expect(own.body.changes[0]?.data).toMatchObject({
      eventCount: 2,
      totalDurationMs: 60_000,
      sessionEndTimestamp: at(60),
    });

    const other = await server().request<PullResult>(
      'GET',
      '/api/v1/sync/changes?deviceId=tablet',
      { user },
    );
    const latest = other.body.changes.filter((c) => c.entityId === sessionId);
    expect(latest.every((c) => (c.data as { eventCount: number }).eventCount === 2)).toBe(true);
  });

  it('a client cannot set the derived fields: its values are ignored on CREATE and UPDATE', async () => {
    const user = uniqueUser('agg');
    const pushed = await pushOk(server(), user, 'phone', [
      create('sessions', 's', { eventCount: 99, totalDurationMs: 5 }),
    ]);
    const sessionId = serverIdOf(pushed, 'sessions', 's');
    const edit = await pushOk(server(), user, 'phone', [
      update('sessions', 's', 1, { eventCount: 7, sessionStartTimestamp: at(0), notes: 'n' }),
    ]);
    expect(edit.failed).toEqual([]);
    expect(await entityState(db(), 'sessions', user, sessionId)).toMatchObject({
      eventCount: 0,
      totalDurationMs: 0,
      sessionStartTimestamp: null,
      notes: 'n',
    });
  });

  it('concurrent consumption changes of one session from two devices leave aggregates over both', async () => {
    const user = uniqueUser('agg');
    const seeded = await pushOk(server(), user, 'phone', [
      create('sessions', 's', {}),
      create('consumptions', 'c1', { timestamp: at(0), sessionId: 's' }),
    ]);
    const sessionId = serverIdOf(seeded, 'sessions', 's');

    // The tablet adds c2 to the session and stops just before committing (it holds the session row).
    const heldOp = randomUUID();
    const reached = deferred();
    const release = deferred();
    hooks.on(heldOp, async () => {
      reached.resolve();
      await release.promise;
    });
    const tablet = pushOk(
      server(),
      user,
      'tablet',
      [create('consumptions', 'c2', { timestamp: at(60), sessionId })],
      {
        syncOperationId: heldOp,
      },
    );
    await reached.promise;
    // Meanwhile the phone moves c1's timestamp: its change names no session, but the session's
    // aggregates must be recomputed, which waits for the tablet's transaction.
    const phone = pushOk(server(), user, 'phone', [
      update('consumptions', 'c1', 1, { timestamp: at(-30) }),
    ]);
    if (target.driver === 'postgres') {
      await eventually(async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`.execute(db());
        return rows[0]!.n > 0 ? true : undefined;
      });
    } else {
      await sleep(100);
    }
    release.resolve();
    await Promise.all([tablet, phone]);

    expect(await entityState(db(), 'sessions', user, sessionId)).toMatchObject({
      eventCount: 2,
      sessionStartTimestamp: at(-30),
      sessionEndTimestamp: at(60),
      totalDurationMs: 90_000,
    });
  });
});
