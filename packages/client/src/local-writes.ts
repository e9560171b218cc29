import {
  ENTITY_REGISTRY,
  getForeignKeyRelations,
  parseChangeData,
  type EntityType,
  type ErrorDetail,
} from '@sync-engine/shared';
import { normalizeFieldValues, withDefaults } from './entity-row.ts';
import { LocalNotFoundError, LocalValidationError } from './errors.ts';
import { canonicalId, enqueueChange } from './outbox.ts';
import type { EntityRow, StoreTransaction } from './store/local-store.ts';

export interface LocalWriteContext {
  readonly now: Date;
  readonly requestId: string;
}

/** The local row an id names (by client id or server id), tombstones included. */
export function findRow(
  tx: StoreTransaction,
  entityType: EntityType,
  id: string,
): EntityRow | undefined {
  return tx.getRow(entityType, id) ?? tx.getRow(entityType, canonicalId(tx, entityType, id));
}

/**
 * Checks a write with the same shared schema the server uses, so a change the server would
 * refuse is refused now, while the user is still there, instead of dead-lettered later.
 * Foreign keys must name an entity the device holds and are stored by its current local
 * id: the server would turn an unknown optional key into null behind the device's back.
 */
function validated(
  tx: StoreTransaction,
  entityType: EntityType,
  changeType: 'CREATE' | 'UPDATE',
  input: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const parsed = parseChangeData(entityType, changeType, input);
  if (!parsed.ok) throw new LocalValidationError(entityType, parsed.details);
  const data = normalizeFieldValues(entityType, parsed.data);
  const problems: ErrorDetail[] = [];
  for (const relation of getForeignKeyRelations(entityType)) {
    const value = data[relation.sourceField];
    if (typeof value !== 'string') continue;
    const target = findRow(tx, relation.targetEntity, value);
    if (target === undefined) {
      problems.push({
        field: `changeData.${relation.sourceField}`,
        message: `names no local ${relation.targetEntity} entity`,
      });
    } else {
      data[relation.sourceField] = target.id;
    }
  }
  if (problems.length > 0) throw new LocalValidationError(entityType, problems);
  return data;
}

/** Writes a new entity under `id` (a client id) and queues its CREATE. */
export function recordCreate(
  tx: StoreTransaction,
  ctx: LocalWriteContext,
  entityType: EntityType,
  id: string,
  input: Readonly<Record<string, unknown>>,
): EntityRow {
  if (findRow(tx, entityType, id) !== undefined) {
    throw new LocalValidationError(entityType, [
      { field: 'entityId', message: `${id} already exists` },
    ]);
  }
  const data = validated(tx, entityType, 'CREATE', input);
  const updatedAt = ctx.now.toISOString();
  const row: EntityRow = {
    id,
    version: 0,
    deletedAt: null,
    updatedAt,
    data: withDefaults(entityType, data),
  };
  tx.putRow(entityType, row);
  enqueueChange(tx, {
    requestId: ctx.requestId,
    entityType,
    entityId: id,
    changeType: 'CREATE',
    changeData: data,
    syncVersion: 0,
    updatedAt,
  });
  return row;
}

function liveRow(
  tx: StoreTransaction,
  entityType: EntityType,
  id: string,
  action: string,
): EntityRow {
  const row = findRow(tx, entityType, id);
  if (row === undefined) throw new LocalNotFoundError(entityType, id);
  if (row.deletedAt !== null)
    throw new LocalNotFoundError(entityType, id, `is deleted; cannot ${action} it`);
  if (ENTITY_REGISTRY[entityType].appendOnly) {
    // The server answers SKIPPED and keeps the record: a local edit would never converge.
    throw new LocalValidationError(entityType, [
      { field: 'changeType', message: `${entityType} are append-only; cannot ${action}` },
    ]);
  }
  return row;
}

/** Applies a patch to the row and queues the UPDATE, based on the row's server version. */
export function recordUpdate(
  tx: StoreTransaction,
  ctx: LocalWriteContext,
  entityType: EntityType,
  id: string,
  patch: Readonly<Record<string, unknown>>,
): EntityRow {
  const row = liveRow(tx, entityType, id, 'update');
  const data = validated(tx, entityType, 'UPDATE', patch);
  const updatedAt = ctx.now.toISOString();
  const next: EntityRow = { ...row, updatedAt, data: { ...row.data, ...data } };
  tx.putRow(entityType, next);
  if (Object.keys(data).length > 0) {
    enqueueChange(tx, {
      requestId: ctx.requestId,
      entityType,
      entityId: row.id,
      changeType: 'UPDATE',
      changeData: data,
      syncVersion: row.version,
      updatedAt,
    });
  }
  return next;
}

/** Tombstones the row (kept, so references to it stay resolvable) and queues the DELETE. */
export function recordDelete(
  tx: StoreTransaction,
  ctx: LocalWriteContext,
  entityType: EntityType,
  id: string,
): EntityRow {
  const row = liveRow(tx, entityType, id, 'delete');
  const deletedAt = ctx.now.toISOString();
  const next: EntityRow = { ...row, deletedAt, updatedAt: deletedAt };
  tx.putRow(entityType, next);
  enqueueChange(tx, {
    requestId: ctx.requestId,
    entityType,
    entityId: row.id,
    changeType: 'DELETE',
    changeData: {},
    syncVersion: row.version,
    updatedAt: deletedAt,
  });
  return next;
}
