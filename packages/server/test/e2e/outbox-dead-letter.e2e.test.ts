import { sql, type Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { HealthReportSchema, type HealthReport, type SyncWsEvent } from '@sync-engine/shared';
import type { DB } from '../../src/db/schema.ts';
import type { OutboxSubscriber } from '../../src/outbox/outbox-subscriber.ts';
import { create, eventually, pushOk, uniqueUser } from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import { startTestServer } from '../support/test-server.ts';
import { openSocket } from '../support/ws-client.ts';

/** Fast retries so a test sees the whole life of a failing event. */
const FAST_OUTBOX = {
  OUTBOX_MAX_ATTEMPTS: '3',
  OUTBOX_RETRY_BASE_MS: '20',
  OUTBOX_RETRY_MAX_MS: '50',
  OUTBOX_POLL_INTERVAL_MS: '25',
};

interface EventRow {
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

async function eventsOf(db: Kysely<DB>, userId: string): Promise<EventRow[]> {
  const { rows } = await sql<EventRow>`
    select event_type, status, attempts, last_error from outbox_events where user_id = ${userId} order by id`.execute(
    db,
  );
  return rows;
}

const isType =
  (type: SyncWsEvent['type']) =>
  (e: SyncWsEvent): boolean =>
    e.type === type;

describeEachDatabase('outbox delivery', (target) => {
  it('a subscriber that always throws ends its events in DEAD_LETTER after the configured attempts; /health reports it', async () => {
    const calls: number[] = [];
    const broken: OutboxSubscriber = {
      name: 'broken-webhook',
      async deliver(event) {
        calls.push(event.attempts);
        throw new Error('webhook endpoint is down');
      },
    };
    await using server = await startTestServer({
      target,
      env: FAST_OUTBOX,
      deps: { outboxSubscribers: [broken] },
    });
    const user = uniqueUser('dead');
    await using socket = await openSocket(server.url, {
      token: await server.token(user),
      deviceId: 'dev-2',
    });
    await pushOk(server, user, 'dev-1', [create('products', 'p1', { name: 'Tea' })]);

    // Realtime is not blocked by the broken subscriber: the socket hears the push.
    await socket.next(isType('sync:push:completed'));
    await socket.next(isType('sync:changes'));

    const events = await eventually(async () => {
      const rows = await eventsOf(server.database.db, user);
      return rows.length === 2 && rows.every((r) => r.status === 'DEAD_LETTER') ? rows : undefined;
    }, 15_000);
    expect(events).toEqual([
      {
        event_type: 'sync.changes',
        status: 'DEAD_LETTER',
        attempts: 3,
        last_error: 'broken-webhook: webhook endpoint is down',
      },
      {
        event_type: 'sync.push.completed',
        status: 'DEAD_LETTER',
        attempts: 3,
        last_error: 'broken-webhook: webhook endpoint is down',
      },
    ]);
    expect(calls.sort()).toEqual([1, 1, 2, 2, 3, 3]);

    const health = await server.request<HealthReport>('GET', '/api/v1/sync/health', { user });
    expect(health.status).toBe(200);
    const report = HealthReportSchema.parse(health.body);
    expect(report.status).toBe('ok');
    expect(report.checks.outbox).toMatchObject({ status: 'degraded', deadLetters: 2, backlog: 0 });
  });

  it("a subscriber failing one user's events never holds up another user's", async () => {
    const poisoned = uniqueUser('poisoned');
    const healthy = uniqueUser('healthy');
    const delivered: string[] = [];
    const picky: OutboxSubscriber = {
      name: 'picky',
      async deliver(event) {
        if (event.userId === poisoned) throw new Error('cannot handle this user');
        delivered.push(`${event.userId ?? ''}:${event.eventType}`);
      },
    };
    // Slow retries: the poisoned events stay PENDING with a backlog while the others go through.
    await using server = await startTestServer({
      target,
      env: {
        OUTBOX_MAX_ATTEMPTS: '5',
        OUTBOX_RETRY_BASE_MS: '60000',
        OUTBOX_POLL_INTERVAL_MS: '25',
      },
      deps: { outboxSubscribers: [picky] },
    });
    await pushOk(server, poisoned, 'dev-1', [create('products', 'p1', { name: 'A' })]);
    for (let i = 0; i < 3; i++)
      await pushOk(server, healthy, 'dev-1', [create('products', `p${i}`, { name: 'B' })]);

    await eventually(
      async () =>
        delivered.filter((d) => d.startsWith(`${healthy}:`)).length === 6 ? true : undefined,
      15_000,
    );
    expect(
      (await eventsOf(server.database.db, healthy)).every(
        (r) => r.status === 'DELIVERED' && r.attempts === 1,
      ),
    ).toBe(true);
    const stuck = await eventsOf(server.database.db, poisoned);
    expect(stuck.map((r) => [r.status, r.attempts])).toEqual([
      ['PENDING', 1],
      ['PENDING', 1],
    ]);
    const health = await server.request<HealthReport>('GET', '/api/v1/sync/health', {
      user: healthy,
    });
    expect(health.body.checks.outbox).toMatchObject({ status: 'ok', backlog: 2, deadLetters: 0 });
  });
});
