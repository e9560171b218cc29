import { sql, type Kysely, type RawBuilder } from 'kysely';
import { ENTITY_REGISTRY, ENTITY_SYNC_ORDER } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import { entityStateToRow } from '../../db/entity-rows.ts';
import { DOMAIN_EVENT, type SyncChangesEventPayload } from '../../outbox/domain-events.ts';
import type { BatchWrites } from './batch-decider.ts';

/** Raised when a concurrent transaction mapped the same client id first: retry the batch. */
export class ConcurrentMappingError extends Error {
  override readonly name = 'ConcurrentMappingError';
}

const values = (rows: readonly RawBuilder<unknown>[]) => sql.join(rows);

/**
 * Writes everything a batch decided with one statement per table (multi-row VALUES), so
 * the cost of a batch is a fixed number of round trips, not one per change.
 */
export async function writeBatch(
  trx: Kysely<DB>,
  ctx: { userId: string; deviceId: string; syncOperationId: string },
  writes: BatchWrites,
): Promise<void> {
  const { userId, deviceId, syncOperationId } = ctx;

  for (const type of ENTITY_SYNC_ORDER) {
    const states = writes.entities.get(type);
    if (!states || states.size === 0) continue;
    const rows = [...states.values()].map((s) => entityStateToRow(type, s) as Record<string, unknown>);
    const columns = Object.keys(rows[0] ?? {});
    const updatable = columns.filter((c) => c !== 'id' && c !== 'user_id' && c !== 'created_at');
    await sql`
      insert into ${sql.table(ENTITY_REGISTRY[type].table)} (${sql.join(columns.map((c) => sql.ref(c)))})
      values ${values(rows.map((r) => sql`(${sql.join(columns.map((c) => r[c]))})`))}
      on conflict (id) do update set ${sql.join(updatable.map((c) => sql`${sql.ref(c)} = excluded.${sql.ref(c)}`))}
      where ${sql.table(ENTITY_REGISTRY[type].table)}.user_id = excluded.user_id`.execute(trx);
  }

  if (writes.mappings.length > 0) {
    const { rows } = await sql<{ client_id: string }>`
      insert into id_mappings (user_id, entity_type, client_id, server_id)
      values ${values(writes.mappings.map((m) => sql`(${userId}, ${m.entityType}, ${m.clientId}, ${m.serverId}::uuid)`))}
      on conflict (user_id, entity_type, client_id) do nothing
      returning client_id`.execute(trx);
    // Another device of the user created the same client id meanwhile: re-decide so this
    // batch reports DUPLICATE instead of creating a second entity.
    if (rows.length !== writes.mappings.length) throw new ConcurrentMappingError();
  }

  if (writes.changes.length > 0) {
    await sql`
      insert into sync_changes (user_id, entity_type, entity_id, change_type, version, origin_device_id, request_id, sync_operation_id)
      values ${values(
        writes.changes.map(
          (c) =>
            sql`(${userId}, ${c.entityType}, ${c.entityId}::uuid, ${c.changeType}, ${c.version}, ${c.originDeviceId}, ${c.requestId}, ${syncOperationId})`,
        ),
      )}`.execute(trx);
  }

  if (writes.applied.length > 0) {
    await sql`
      insert into sync_applied_requests (user_id, device_id, request_id, entity_type, server_id, change_type, version)
      values ${values(
        writes.applied.map(
          (a) => sql`(${userId}, ${deviceId}, ${a.requestId}, ${a.entityType}, ${a.serverId}::uuid, ${a.changeType}, ${a.version})`,
        ),
      )}`.execute(trx);
  }

  if (writes.conflicts.length > 0) {
    await sql`
      insert into sync_conflicts (id, user_id, entity_type, entity_id, client_id, request_id, device_id, sync_operation_id,
        strategy, outcome, status, resolution, client_version, server_version, client_data, server_data, resolved_data,
        created_at, resolved_at)
      values ${values(
        writes.conflicts.map(
          (c) => sql`(${c.id}::uuid, ${userId}, ${c.entityType}, ${c.entityId}::uuid, ${c.clientId}, ${c.requestId},
            ${deviceId}, ${syncOperationId}, ${c.strategy}, ${c.outcome}, ${c.status}, ${c.resolution},
            ${c.clientVersion}, ${c.serverVersion}, ${JSON.stringify(c.clientData)}::jsonb,
            ${JSON.stringify(c.serverData)}::jsonb, ${c.resolvedData === null ? null : JSON.stringify(c.resolvedData)}::jsonb,
            now(), ${c.resolvedAt}::timestamptz)`,
        ),
      )}`.execute(trx);
  }

  if (writes.sessionsToRecompute.size > 0) {
    await recomputeSessionAggregates(trx, userId, [...writes.sessionsToRecompute]);
  }

  if (writes.changes.length > 0 || writes.sessionsToRecompute.size > 0) {
    const entityTypes = new Set<string>(writes.changes.map((c) => c.entityType));
    if (writes.sessionsToRecompute.size > 0) entityTypes.add('sessions');
    const payload: SyncChangesEventPayload = {
      userId,
      deviceId,
      syncOperationId,
      entityTypes: [...entityTypes],
      changeCount: writes.changes.length,
    };
    await sql`insert into outbox_events (user_id, event_type, payload)
      values (${userId}, ${DOMAIN_EVENT.SYNC_CHANGES}, ${JSON.stringify(payload)}::jsonb)`.execute(trx);
  }
}

/**
 * Recomputes the server-derived aggregates of sessions from their live consumptions. A
 * session whose aggregates change gets a new version and a server-authored change
 * (origin null), so every device, the pushing one too, pulls the new values.
 *
 * The sessions are locked first, in a statement of their own: every writer of a session's
 * consumptions ends here, so the lock orders them, and the aggregate statement that follows
 * takes its snapshot only once the lock is held, so it counts the consumptions the previous
 * holder committed. (Computed in the locking statement itself, the aggregates would come
 * from a snapshot taken before the wait and overwrite the other writer's.)
 */
export async function recomputeSessionAggregates(trx: Kysely<DB>, userId: string, sessionIds: readonly string[]): Promise<void> {
  await sql`select id from sessions where user_id = ${userId} and id = any(${sessionIds}::uuid[]) order by id for update`.execute(trx);
  await sql`
    with agg as (
      select s.id, count(c.id)::int as cnt, min(c.timestamp) as first_at, max(c.timestamp) as last_at
      from sessions s
      left join consumptions c on c.user_id = s.user_id and c.session_id = s.id and c.deleted_at is null
      where s.user_id = ${userId} and s.id = any(${sessionIds}::uuid[]) and s.deleted_at is null
      group by s.id
    ), updated as (
      update sessions s
      set event_count = agg.cnt,
          session_start_timestamp = agg.first_at,
          session_end_timestamp = agg.last_at,
          total_duration_ms = coalesce(extract(epoch from (agg.last_at - agg.first_at)) * 1000, 0),
          version = s.version + 1,
          updated_at = now()
      from agg
      where s.id = agg.id and s.user_id = ${userId}
        and (s.event_count, s.session_start_timestamp, s.session_end_timestamp)
            is distinct from (agg.cnt, agg.first_at, agg.last_at)
      returning s.id, s.version
    )
    insert into sync_changes (user_id, entity_type, entity_id, change_type, version, origin_device_id)
    select ${userId}, 'sessions', id, 'UPDATE', version, null from updated`.execute(trx);
}
