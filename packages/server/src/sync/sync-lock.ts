import { sql, type Kysely } from 'kysely';
import { SyncError } from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';

/** A held per user+device sync lock. The fencing token grows by one at every acquisition. */
export interface HeldSyncLock {
  readonly userId: string;
  readonly deviceId: string;
  readonly owner: string;
  readonly fencingToken: string;
}

/** Raised inside a write transaction when another holder took the lock over meanwhile. */
export class LockLostError extends SyncError {
  constructor() {
    super('SYNC_IN_PROGRESS', 'The sync lock was taken over by another request; retry', { retryAfterSeconds: 1 });
  }
}

/**
 * One push or full sync at a time per user+device. The lock lives in `sync_states` so every
 * server instance on the database sees it; a holder that stops heartbeating for `staleMs`
 * (a crashed worker) is taken over, and the fencing token keeps it from writing afterwards.
 *
 * A held, live lock is refused at once: the UPDATE's condition is false on the row it sees,
 * so it never waits for the holder's open write transaction (which holds the row, see
 * `assertSyncLockHeld`). Only a takeover of an expired lock waits for that transaction to
 * end, then re-checks the row, so a holder's batch in flight always commits first.
 */
export async function acquireSyncLock(
  db: Kysely<DB>,
  userId: string,
  deviceId: string,
  owner: string,
  staleMs: number,
): Promise<HeldSyncLock> {
  const expiresAt = sql`now() + make_interval(secs => ${staleMs / 1000})`;
  const { rows } = await sql<{ fencing_token: string }>`
    with taken as (
      update sync_states
      set lock_owner = ${owner}, lock_expires_at = ${expiresAt}, fencing_token = fencing_token + 1, updated_at = now()
      where user_id = ${userId} and device_id = ${deviceId}
        and (lock_owner is null or lock_expires_at < now())
      returning fencing_token
    ), created as (
      insert into sync_states (user_id, device_id, lock_owner, lock_expires_at, fencing_token, updated_at)
      select ${userId}, ${deviceId}, ${owner}, ${expiresAt}, 1, now()
      where not exists (select 1 from sync_states where user_id = ${userId} and device_id = ${deviceId})
      on conflict (user_id, device_id) do nothing
      returning fencing_token
    )
    select fencing_token from taken union all select fencing_token from created`.execute(db);
  const row = rows[0];
  if (row) return { userId, deviceId, owner, fencingToken: String(row.fencing_token) };
  const held = await sql<{ wait_ms: number | string | null }>`
    select extract(epoch from (lock_expires_at - now())) * 1000 as wait_ms
    from sync_states where user_id = ${userId} and device_id = ${deviceId}`.execute(db);
  const waitMs = Number(held.rows[0]?.wait_ms ?? 1000);
  throw new SyncError('SYNC_IN_PROGRESS', 'Another sync of this user and device is in progress', {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

/** Extends the lock; false when it was lost (taken over after going stale). */
export async function heartbeatSyncLock(db: Kysely<DB>, lock: HeldSyncLock, staleMs: number): Promise<boolean> {
  const result = await sql`
    update sync_states set lock_expires_at = now() + make_interval(secs => ${staleMs / 1000}), updated_at = now()
    where user_id = ${lock.userId} and device_id = ${lock.deviceId}
      and lock_owner = ${lock.owner} and fencing_token = ${lock.fencingToken}`.execute(db);
  return Number(result.numAffectedRows ?? 0n) > 0;
}

/**
 * Checks, inside a write transaction, that this holder still owns the lock. The share lock
 * on the row holds off a takeover until the transaction ends, so the check stays true for
 * every write that follows it in the same transaction.
 */
export async function assertSyncLockHeld(trx: Kysely<DB>, lock: HeldSyncLock): Promise<void> {
  const { rows } = await sql<{ fencing_token: string }>`
    select fencing_token from sync_states
    where user_id = ${lock.userId} and device_id = ${lock.deviceId} and lock_owner = ${lock.owner}
    for share`.execute(trx);
  if (String(rows[0]?.fencing_token) !== lock.fencingToken) throw new LockLostError();
}

/** Releases the lock if still held; `synced` also records the device's last sync time. */
export async function releaseSyncLock(db: Kysely<DB>, lock: HeldSyncLock, synced: boolean): Promise<void> {
  await sql`
    update sync_states
    set lock_owner = null, lock_expires_at = null, updated_at = now(),
        last_sync_at = case when ${synced} then now() else last_sync_at end
    where user_id = ${lock.userId} and device_id = ${lock.deviceId}
      and lock_owner = ${lock.owner} and fencing_token = ${lock.fencingToken}`.execute(db);
}

/**
 * Records a sync of the device without taking its lock: a replayed push is answered 200 or
 * 207 like the original, so it counts as the device's last sync (CONTRACT §6 `/status`).
 */
export async function recordDeviceSync(db: Kysely<DB>, userId: string, deviceId: string): Promise<void> {
  await sql`
    insert into sync_states (user_id, device_id, last_sync_at, updated_at)
    values (${userId}, ${deviceId}, now(), now())
    on conflict (user_id, device_id) do update set last_sync_at = now(), updated_at = now()`.execute(db);
}
