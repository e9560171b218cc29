import { sql, type Kysely } from 'kysely';
import type {
  ConflictResolutionInput,
  EntityConflictConfigMap,
  ResolvedConflict,
} from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import { DOMAIN_EVENT, type ConflictsResolvedEventPayload } from '../../outbox/domain-events.ts';
import { isUuid, type EntityState } from '../entity-state.ts';
import type { BatchWrites } from '../push/batch-decider.ts';
import { readBatchSnapshot } from '../push/batch-reader.ts';
import { writeBatch } from '../push/batch-writer.ts';
import type { ChangeError } from '../push/push-types.ts';
import { resolveMappedIdsInChange } from '../push/resolve-mapped-ids.ts';
import { lockConflict } from './conflict-rows.ts';
import { changedFields, planResolution, proposedData } from './resolution-plan.ts';

export interface ResolveContext {
  readonly userId: string;
  readonly conflictConfig: EntityConflictConfigMap;
  readonly catalogUserId: string;
  /** Server time of the resolution (ISO). */
  readonly now: string;
}

export type ResolveOutcome =
  | { readonly ok: true; readonly resolved: ResolvedConflict }
  | { readonly ok: false; readonly error: ChangeError };

/**
 * No device pushed a resolution. writeBatch records the pushing device in the `sync.changes`
 * outbox event; the empty string (never a valid deviceId) tells the realtime subscriber that
 * every socket of the user, whatever its device, must hear about it.
 */
export const NO_DEVICE = '';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const fail = (code: string, message: string, details?: ChangeError['details']): ResolveOutcome => ({
  ok: false,
  error: details === undefined ? { code, message } : { code, message, details },
});

/**
 * Resolves one conflict inside `trx` (the caller's transaction, one per resolution).
 * Invariants: the conflict row and then the entity and the rows its FKs name are locked
 * (FOR UPDATE, the entity rows in sync order like a push) before anything is decided; the
 * entity write, its sync_changes row (origin null: every device pulls it, the resolving one
 * too), the conflict's RESOLVED status and the `sync.conflicts.resolved` outbox event commit
 * together or not at all. A conflict already resolved (also auto-resolved ones) fails with
 * CONFLICT_ALREADY_RESOLVED; another user's or an unknown id with NOT_FOUND. A tombstoned
 * entity is not edited (DELETE always wins): the conflict is resolved, the tombstone returned.
 */
export async function resolveConflictInTransaction(
  trx: Kysely<DB>,
  ctx: ResolveContext,
  input: ConflictResolutionInput,
): Promise<ResolveOutcome> {
  const notFound = () => fail('NOT_FOUND', `No conflict ${input.conflictId}`);
  // Conflict ids are UUIDs; anything else names no conflict (and must not reach a ::uuid cast).
  if (!isUuid(input.conflictId)) return notFound();
  const conflict = await lockConflict(trx, ctx.userId, input.conflictId.toLowerCase());
  if (conflict === undefined) return notFound();
  if (conflict.status !== 'PENDING') {
    return fail(
      'CONFLICT_ALREADY_RESOLVED',
      `Conflict ${conflict.id} was already resolved (${conflict.resolution ?? 'AUTO'})`,
    );
  }
  const entityType = conflict.entity_type;
  const proposed = proposedData({
    entityType,
    strategy: input.strategy,
    mergedData: input.mergedData,
    clientData: conflict.client_data,
    clientVersion: conflict.client_version,
  });
  const snapshot = await readBatchSnapshot(trx, ctx.userId, conflict.device_id, [
    {
      requestId: `conflict:${conflict.id}`,
      entityType,
      entityId: conflict.entity_id,
      changeType: 'UPDATE',
      // The stored FKs too: the rows a write may lock later (a consumption's session, for
      // its aggregates) are then locked first, in sync order, as a push locks them.
      changeData: { ...conflict.server_data, ...(isPlainObject(proposed) ? proposed : {}) },
      syncVersion: 0,
    },
  ]);
  const current = snapshot.states.get(entityType, conflict.entity_id);
  if (current === undefined)
    return fail(
      'NOT_FOUND',
      `The ${entityType} entity of conflict ${conflict.id} no longer exists`,
    );

  const plan = planResolution({
    entityType,
    strategy: input.strategy,
    mergedData: input.mergedData,
    clientData: conflict.client_data,
    clientVersion: conflict.client_version,
    current,
    config: ctx.conflictConfig[entityType],
  });
  if (!plan.ok) return { ok: false, error: plan.error };
  const refs = resolveMappedIdsInChange(entityType, plan.patch, snapshot.idMap, snapshot.states);
  if (!refs.ok) {
    return fail(
      'FK_NOT_FOUND',
      `Required reference not found: ${refs.missing.join(', ')}`,
      refs.missing.map((f) => ({
        field: `mergedData.${f}`,
        message: 'names no entity of this user',
      })),
    );
  }
  const patch = { ...refs.data };
  if (entityType === 'products' && patch['isPublic'] === true && ctx.userId !== ctx.catalogUserId)
    patch['isPublic'] = false;

  let final: EntityState = current;
  const changed = current.deletedAt === null ? changedFields(current, patch) : {};
  if (Object.keys(changed).length > 0) {
    final = { ...current, ...changed, version: current.version + 1, updatedAt: ctx.now };
    await writeBatch(
      trx,
      { userId: ctx.userId, deviceId: NO_DEVICE, syncOperationId: `conflict:${conflict.id}` },
      entityWrites(final, entityType),
    );
  }
  await sql`update sync_conflicts
    set status = 'RESOLVED', resolution = ${input.strategy}, resolved_data = ${JSON.stringify(final)}::jsonb,
        resolved_at = ${ctx.now}::timestamptz
    where id = ${conflict.id}::uuid and user_id = ${ctx.userId}`.execute(trx);
  const payload: ConflictsResolvedEventPayload = { userId: ctx.userId, conflictIds: [conflict.id] };
  await sql`insert into outbox_events (user_id, event_type, payload)
    values (${ctx.userId}, ${DOMAIN_EVENT.CONFLICTS_RESOLVED}, ${JSON.stringify(payload)}::jsonb)`.execute(
    trx,
  );
  return {
    ok: true,
    resolved: {
      conflictId: conflict.id,
      entityType,
      entityId: final.id,
      version: final.version,
      state: final,
    },
  };
}

/** The writes of one resolved entity: its state and a server-authored UPDATE change. */
function entityWrites(state: EntityState, entityType: ResolvedConflict['entityType']): BatchWrites {
  const sessionsToRecompute = new Set<string>();
  // A consumption's timestamp feeds its session's derived aggregates.
  if (entityType === 'consumptions' && typeof state['sessionId'] === 'string')
    sessionsToRecompute.add(state['sessionId']);
  return {
    entities: new Map([[entityType, new Map([[state.id, state]])]]),
    changes: [
      {
        entityType,
        entityId: state.id,
        changeType: 'UPDATE',
        version: state.version,
        originDeviceId: null,
        requestId: null,
      },
    ],
    mappings: [],
    applied: [],
    conflicts: [],
    sessionsToRecompute,
  };
}
