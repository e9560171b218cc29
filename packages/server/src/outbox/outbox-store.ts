import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { OutboxEvent } from './outbox-subscriber.ts';

/*
 * The SQL of outbox delivery. A claim is one statement: it takes due PENDING rows that no
 * other worker holds (FOR UPDATE SKIP LOCKED), counts the attempt and pushes
 * next_attempt_at past the claim timeout, then commits at once — delivery runs outside any
 * transaction (on PGlite, which has one connection, a transaction held open would stall
 * every request). If the worker dies mid-delivery, the rows fall due again after the
 * claim timeout: delivery is at least once.
 */

/** Claims up to `limit` due events for `claimMs`; oldest first. */
export async function claimDueEvents(
  db: Kysely<DB>,
  limit: number,
  claimMs: number,
): Promise<OutboxEvent[]> {
  const { rows } = await sql<{
    id: string;
    user_id: string | null;
    event_type: string;
    payload: unknown;
    attempts: number;
    created_at: Date;
  }>`
    update outbox_events e
    set attempts = e.attempts + 1, next_attempt_at = now() + ${claimMs}::float8 * interval '1 millisecond'
    where e.id in (
      select id from outbox_events
      where status = 'PENDING' and next_attempt_at <= now()
      order by next_attempt_at, id
      limit ${limit}
      for update skip locked
    )
    returning e.id, e.user_id, e.event_type, e.payload, e.attempts, e.created_at`.execute(db);
  return rows
    .map((r) => ({
      id: String(r.id),
      userId: r.user_id,
      eventType: r.event_type,
      payload: r.payload,
      attempts: r.attempts,
      createdAt: r.created_at.toISOString(),
    }))
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

export async function markDelivered(db: Kysely<DB>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update outbox_events set status = 'DELIVERED', delivered_at = now(), last_error = null
    where id = any(${ids}::bigint[]) and status = 'PENDING'`.execute(db);
}

/**
 * Records a failed attempt: DEAD_LETTER once `attempts` reached `maxAttempts`, else PENDING
 * again, due after `retryInMs`.
 */
export async function markFailed(
  db: Kysely<DB>,
  event: Pick<OutboxEvent, 'id' | 'attempts'>,
  failure: { error: string; maxAttempts: number; retryInMs: number },
): Promise<'PENDING' | 'DEAD_LETTER'> {
  const status = event.attempts >= failure.maxAttempts ? 'DEAD_LETTER' : 'PENDING';
  await sql`update outbox_events
    set status = ${status}, last_error = ${failure.error.slice(0, 2000)},
        next_attempt_at = now() + ${failure.retryInMs}::float8 * interval '1 millisecond'
    where id = ${event.id}::bigint and status = 'PENDING'`.execute(db);
  return status;
}

export interface OutboxCounts {
  /** Events still to deliver (due now or waiting for a retry). */
  readonly backlog: number;
  /** Events that failed every attempt and wait for an operator. */
  readonly deadLetters: number;
}

/** Both counts read through the (status, next_attempt_at) index. */
export async function outboxCounts(db: Kysely<DB>): Promise<OutboxCounts> {
  const { rows } = await sql<{ backlog: string | number; dead: string | number }>`
    select (select count(*) from outbox_events where status = 'PENDING') as backlog,
           (select count(*) from outbox_events where status = 'DEAD_LETTER') as dead`.execute(db);
  return { backlog: Number(rows[0]?.backlog ?? 0), deadLetters: Number(rows[0]?.dead ?? 0) };
}

/** Deletes delivered events older than `olderThanMs`; dead letters stay for investigation. */
export async function pruneDelivered(db: Kysely<DB>, olderThanMs: number): Promise<void> {
  await sql`delete from outbox_events
    where status = 'DELIVERED' and delivered_at < now() - ${olderThanMs}::float8 * interval '1 millisecond'`.execute(
    db,
  );
}
