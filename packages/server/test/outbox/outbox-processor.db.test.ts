import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DB } from '../../src/db/schema.ts';
import { OutboxProcessor, type OutboxProcessorOptions } from '../../src/outbox/outbox-processor.ts';
import type { OutboxEvent, OutboxSubscriber } from '../../src/outbox/outbox-subscriber.ts';
import { createDatabase } from '../../src/db/database.ts';
import { describeEachDatabase, type TestDatabase } from '../support/test-database.ts';
import { eventually } from '../support/push-fixtures.ts';

const silent = { warn: () => {}, error: () => {}, debug: () => {} };

interface EventRow {
  id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
}

async function insertEvent(
  db: Kysely<DB>,
  eventType: string,
  payload: unknown = {},
  dueInMs = 0,
): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    insert into outbox_events (user_id, event_type, payload, next_attempt_at)
    values ('u', ${eventType}, ${JSON.stringify(payload)}::jsonb, now() + ${dueInMs}::float8 * interval '1 millisecond')
    returning id`.execute(db);
  return String(rows[0]?.id);
}

async function eventRows(db: Kysely<DB>): Promise<Map<string, EventRow>> {
  const { rows } = await sql<EventRow>`
    select id, event_type, status, attempts, last_error, next_attempt_at, delivered_at from outbox_events order by id`.execute(
    db,
  );
  return new Map(rows.map((r) => [String(r.id), r]));
}

function recorder(name: string, handles?: (type: string) => boolean) {
  const seen: OutboxEvent[] = [];
  const subscriber: OutboxSubscriber = {
    name,
    ...(handles ? { handles } : {}),
    async deliver(event) {
      seen.push(event);
    },
  };
  return { subscriber, seen };
}

const failing = (name: string, handles: (type: string) => boolean): OutboxSubscriber => ({
  name,
  handles,
  async deliver() {
    throw new Error('always broken');
  },
});

describeEachDatabase('OutboxProcessor', (target) => {
  let database: TestDatabase;
  const processors: OutboxProcessor[] = [];
  beforeEach(async () => {
    database = await target.createTestDatabase();
  });
  afterEach(async () => {
    for (const p of processors.splice(0)) await p.stop();
    await database.close();
  });

  function processor(
    options: Partial<OutboxProcessorOptions> & Pick<OutboxProcessorOptions, 'subscribers'>,
    db = database.db,
  ): OutboxProcessor {
    const p = new OutboxProcessor({
      db,
      log: silent,
      pollIntervalMs: 50,
      maxAttempts: 3,
      backoff: { baseMs: 30, maxMs: 60 },
      ...options,
    });
    processors.push(p);
    return p;
  }

  it('delivers due events in order to the subscribers that handle them and marks them DELIVERED', async () => {
    const all = recorder('all');
    const onlyA = recorder('only-a', (t) => t === 'a');
    const a = await insertEvent(database.db, 'a', { n: 1 });
    const b = await insertEvent(database.db, 'b', { n: 2 });
    const later = await insertEvent(database.db, 'a', { n: 3 }, 60_000);
    await processor({ subscribers: [all.subscriber, onlyA.subscriber] }).drain();

    expect(all.seen.map((e) => [e.id, e.eventType, e.payload, e.attempts])).toEqual([
      [a, 'a', { n: 1 }, 1],
      [b, 'b', { n: 2 }, 1],
    ]);
    expect(onlyA.seen.map((e) => e.id)).toEqual([a]);
    const rows = await eventRows(database.db);
    expect(rows.get(a)).toMatchObject({ status: 'DELIVERED', attempts: 1, last_error: null });
    expect(rows.get(a)?.delivered_at).toBeInstanceOf(Date);
    expect(rows.get(b)?.status).toBe('DELIVERED');
    expect(rows.get(later)).toMatchObject({ status: 'PENDING', attempts: 0 });
  });

  it('retries a failed event with growing backoff and moves it to DEAD_LETTER after maxAttempts, never blocking the others', async () => {
    const good = recorder('good');
    const p = processor({
      subscribers: [good.subscriber, failing('poison', (t) => t === 'poison')],
      backoff: { baseMs: 200, maxMs: 400 },
    });
    const poison = await insertEvent(database.db, 'poison');
    const fine = await insertEvent(database.db, 'fine');

    await p.drain();
    let rows = await eventRows(database.db);
    expect(rows.get(fine)?.status).toBe('DELIVERED');
    const first = rows.get(poison);
    expect(first).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      last_error: 'poison: always broken',
    });
    const delay1 = (first?.next_attempt_at.getTime() ?? 0) - Date.now();
    expect(delay1).toBeGreaterThan(100);
    expect(delay1).toBeLessThanOrEqual(200);

    // Not due yet: a round now leaves it alone, and events arriving meanwhile go through.
    const meanwhile = await insertEvent(database.db, 'fine');
    await p.drain();
    rows = await eventRows(database.db);
    expect(rows.get(poison)?.attempts).toBe(1);
    expect(rows.get(meanwhile)?.status).toBe('DELIVERED');

    await sleep(delay1 + 20);
    await p.drain();
    const second = (await eventRows(database.db)).get(poison);
    expect(second).toMatchObject({ status: 'PENDING', attempts: 2 });
    const delay2 = (second?.next_attempt_at.getTime() ?? 0) - Date.now();
    expect(delay2).toBeGreaterThan(delay1);

    await sleep(delay2 + 20);
    await p.drain();
    expect((await eventRows(database.db)).get(poison)).toMatchObject({
      status: 'DEAD_LETTER',
      attempts: 3,
      last_error: 'poison: always broken',
    });
    expect(await p.counts()).toEqual({ backlog: 0, deadLetters: 1 });
    // The good subscriber got the poison event on every attempt (at-least-once to all).
    expect(good.seen.filter((e) => e.id === poison).map((e) => e.attempts)).toEqual([1, 2, 3]);
  });

  it('fails an attempt whose subscriber does not settle in time', async () => {
    const p = processor({
      subscribers: [
        { name: 'stuck', handles: (t) => t === 'slow', deliver: () => new Promise<void>(() => {}) },
      ],
      deliveryTimeoutMs: 50,
    });
    const slow = await insertEvent(database.db, 'slow');
    const fast = await insertEvent(database.db, 'fast');
    await p.drain();
    const rows = await eventRows(database.db);
    expect(rows.get(slow)).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(rows.get(slow)?.last_error).toMatch(/^stuck: did not settle within 50 ms/);
    expect(rows.get(fast)?.status).toBe('DELIVERED');
  });

  it('is woken by wake() and by its poll timer, and stops cleanly', async () => {
    const seen = recorder('seen');
    const p = processor({ subscribers: [seen.subscriber], pollIntervalMs: 100 });
    p.start();
    const woken = await insertEvent(database.db, 'x');
    p.wake();
    await eventually(async () => (seen.seen.some((e) => e.id === woken) ? true : undefined), 5000);
    const polled = await insertEvent(database.db, 'x');
    await eventually(async () => (seen.seen.some((e) => e.id === polled) ? true : undefined), 5000);
    await p.stop();
    const afterStop = await insertEvent(database.db, 'x');
    p.wake();
    await sleep(250);
    expect(seen.seen.some((e) => e.id === afterStop)).toBe(false);
    expect((await eventRows(database.db)).get(afterStop)?.status).toBe('PENDING');
  });

  it('two processors draining one database deliver each event exactly once', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 120; i++) ids.add(await insertEvent(database.db, 'e', { i }));
    const seen: string[] = [];
    const subscriber: OutboxSubscriber = {
      name: 'count',
      async deliver(event) {
        seen.push(event.id);
        await sleep(1);
      },
    };
    // On PostgreSQL the second processor gets its own pool: truly concurrent claims.
    const second =
      database.databaseUrl === undefined
        ? undefined
        : await createDatabase({ databaseUrl: database.databaseUrl, dataDir: '.', poolSize: 2 });
    try {
      const a = processor({ subscribers: [subscriber], batchSize: 10 });
      const b = processor({ subscribers: [subscriber], batchSize: 10 }, second?.db ?? database.db);
      await Promise.all([a.drain(), b.drain(), a.drain(), b.drain()]);
    } finally {
      await second?.close();
    }
    expect(seen).toHaveLength(120);
    expect(new Set(seen)).toEqual(ids);
    expect(
      [...(await eventRows(database.db)).values()].every(
        (r) => r.status === 'DELIVERED' && r.attempts === 1,
      ),
    ).toBe(true);
  });
});
