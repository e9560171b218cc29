import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { SyncError } from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import { DOMAIN_EVENT, type PushCompletedEventPayload } from '../outbox/domain-events.ts';

/** A completed operation's stored answer, replayed verbatim for a retry. */
export interface StoredAnswer {
  readonly httpStatus: number;
  readonly body: unknown;
}

/** Stable JSON (keys sorted) so a client that reorders keys still matches its own request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Fingerprint of a request body: the same syncOperationId with another body is refused (422). */
export function requestFingerprint(kind: string, body: unknown): string {
  return createHash('sha256').update(kind).update('\n').update(canonicalJson(body)).digest('hex');
}

/**
 * The answer stored for a completed operation, if any. Throws 422 when the id was used
 * with a different body.
 */
export async function findCompletedOperation(
  db: Kysely<DB>,
  userId: string,
  syncOperationId: string,
  fingerprint: string,
): Promise<StoredAnswer | undefined> {
  const { rows } = await sql<{ status: string; request_fingerprint: string; http_status: number | null; result_payload: unknown }>`
    select status, request_fingerprint, http_status, result_payload from sync_operations
    where user_id = ${userId} and sync_operation_id = ${syncOperationId}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  if (row.request_fingerprint !== fingerprint) throw reusedKey();
  if (row.status !== 'COMPLETED' || row.http_status === null) return undefined;
  return { httpStatus: row.http_status, body: row.result_payload };
}

function reusedKey(): SyncError {
  return new SyncError('IDEMPOTENCY_KEY_REUSED', 'This syncOperationId was already used with a different request body');
}

export type ClaimResult = { readonly kind: 'claimed' } | { readonly kind: 'completed'; readonly answer: StoredAnswer };

/**
 * Claims the operation for the caller, who already holds the user+device lock. An
 * IN_PROGRESS or FAILED record left by a crashed worker is taken over: requestId dedupe
 * makes re-running it apply nothing twice.
 */
export async function claimOperation(
  db: Kysely<DB>,
  op: { userId: string; syncOperationId: string; deviceId: string; fingerprint: string; fencingToken: string },
): Promise<ClaimResult> {
  const { rows } = await sql<{ status: string }>`
    insert into sync_operations
      (user_id, sync_operation_id, device_id, status, request_fingerprint, lock_token, heartbeat_at, created_at, updated_at)
    values (${op.userId}, ${op.syncOperationId}, ${op.deviceId}, 'IN_PROGRESS', ${op.fingerprint}, ${op.fencingToken}, now(), now(), now())
    on conflict (user_id, sync_operation_id) do update
      set status = 'IN_PROGRESS', lock_token = excluded.lock_token, heartbeat_at = now(), updated_at = now()
      where sync_operations.status <> 'COMPLETED'
        and sync_operations.request_fingerprint = excluded.request_fingerprint
    returning status`.execute(db);
  if (rows.length > 0) return { kind: 'claimed' };
  const answer = await findCompletedOperation(db, op.userId, op.syncOperationId, op.fingerprint);
  if (answer) return { kind: 'completed', answer };
  throw reusedKey();
}

export async function heartbeatOperation(db: Kysely<DB>, userId: string, syncOperationId: string): Promise<void> {
  await sql`update sync_operations set heartbeat_at = now(), updated_at = now()
    where user_id = ${userId} and sync_operation_id = ${syncOperationId} and status = 'IN_PROGRESS'`.execute(db);
}

/**
 * Stores the answer and, in the same statement, the outbox event announcing it, so the
 * event exists exactly when the stored answer does.
 */
export async function completeOperation(
  db: Kysely<DB>,
  userId: string,
  syncOperationId: string,
  answer: StoredAnswer,
  event: PushCompletedEventPayload,
): Promise<void> {
  await sql`
    with done as (
      update sync_operations
      set status = 'COMPLETED', http_status = ${answer.httpStatus}, result_payload = ${JSON.stringify(answer.body)}::jsonb,
          completed_at = now(), updated_at = now()
      where user_id = ${userId} and sync_operation_id = ${syncOperationId} and status <> 'COMPLETED'
      returning user_id
    )
    insert into outbox_events (user_id, event_type, payload)
    select user_id, ${DOMAIN_EVENT.PUSH_COMPLETED}, ${JSON.stringify(event)}::jsonb from done`.execute(db);
}

/**
 * Marks an operation that stopped on an error FAILED, so a retry takes it over at once.
 * Fenced: a worker that lost its lock cannot mark FAILED the run of whoever took it over.
 */
export async function failOperation(db: Kysely<DB>, userId: string, syncOperationId: string, fencingToken: string): Promise<void> {
  await sql`update sync_operations set status = 'FAILED', updated_at = now()
    where user_id = ${userId} and sync_operation_id = ${syncOperationId} and status = 'IN_PROGRESS'
      and lock_token = ${fencingToken}`.execute(db);
}
