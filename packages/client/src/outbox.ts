import { getForeignKeyRelations, type EntityType } from '@sync-engine/shared';
import type {
  EntityRow,
  IdMappingRecord,
  OutboxEntry,
  StoreTransaction,
} from './store/local-store.ts';

export function entityKey(entityType: EntityType, id: string): string {
  return `${entityType}\u0000${id}`;
}

/**
 * The outbox and id map of one store transaction, read once and kept in step with every
 * write made through it. Merging a pull page or a push answer asks "which queued changes
 * touch this entity?" once per entity; answering from the store each time would cost a
 * scan of the outbox per question.
 */
export class OutboxIndex {
  private readonly mappings: Map<string, string>;
  private entries: OutboxEntry[];
  /** Canonical entity key → its entries in outbox order; rebuilt lazily after id changes. */
  private byEntity: Map<string, OutboxEntry[]> | undefined;

  constructor(private readonly tx: StoreTransaction) {
    this.mappings = new Map(
      tx.listIdMappings().map((m) => [entityKey(m.entityType, m.clientId), m.serverId]),
    );
    this.entries = tx.listOutbox();
  }

  /** The id a local id now goes by: the server id once the server mapped it, else itself. */
  canonical(entityType: EntityType, id: string): string {
    return this.mappings.get(entityKey(entityType, id)) ?? id;
  }

  keyOf(entry: OutboxEntry): string {
    return entityKey(entry.entityType, this.canonical(entry.entityType, entry.entityId));
  }

  /** Every queued change, in the order it was made. */
  all(): readonly OutboxEntry[] {
    return this.entries;
  }

  /** Queued changes (in order) of the entity `id` names, by either of its ids. */
  pendingFor(entityType: EntityType, id: string): readonly OutboxEntry[] {
    if (this.byEntity === undefined) {
      this.byEntity = new Map();
      for (const entry of this.entries) {
        const key = this.keyOf(entry);
        const list = this.byEntity.get(key);
        if (list === undefined) this.byEntity.set(key, [entry]);
        else list.push(entry);
      }
    }
    return this.byEntity.get(entityKey(entityType, this.canonical(entityType, id))) ?? [];
  }

  /** Inserts at the end, or replaces the entry with the same requestId in place. */
  put(entry: OutboxEntry): void {
    this.tx.putOutbox(entry);
    const at = this.entries.findIndex((e) => e.requestId === entry.requestId);
    const previous = at === -1 ? undefined : this.entries[at];
    if (previous === undefined) this.entries.push(entry);
    else this.entries[at] = entry;
    if (this.byEntity === undefined) return;
    const key = this.keyOf(entry);
    if (previous !== undefined && this.keyOf(previous) !== key) {
      this.byEntity = undefined; // moved to another entity key: rebuild when next asked
      return;
    }
    const list = this.byEntity.get(key) ?? [];
    const inList = list.findIndex((e) => e.requestId === entry.requestId);
    if (inList === -1) list.push(entry);
    else list[inList] = entry;
    this.byEntity.set(key, list);
  }

  remove(requestId: string): void {
    this.tx.removeOutbox(requestId);
    const entry = this.entries.find((e) => e.requestId === requestId);
    if (entry === undefined) return;
    this.entries = this.entries.filter((e) => e !== entry);
    const list = this.byEntity?.get(this.keyOf(entry));
    const at = list?.indexOf(entry) ?? -1;
    if (at !== -1) list?.splice(at, 1);
  }

  /**
   * Records server ids for client ids: the rows move with every foreign key naming them
   * (the store's cascade), and queued changes not in flight name the entity, and foreign
   * keys to it, by the server id from now on. In-flight ones keep their bytes: a retried
   * push must be identical, and the server resolves either id forever.
   */
  addMappings(mappings: readonly IdMappingRecord[]): void {
    const moved = new Map<string, string>();
    for (const mapping of mappings) {
      if (mapping.clientId === mapping.serverId) continue;
      this.tx.putIdMapping(mapping);
      this.tx.remapId(mapping.entityType, mapping.clientId, mapping.serverId);
      this.mappings.set(entityKey(mapping.entityType, mapping.clientId), mapping.serverId);
      moved.set(entityKey(mapping.entityType, mapping.clientId), mapping.serverId);
    }
    if (moved.size === 0) return;
    this.byEntity = undefined;
    for (const entry of [...this.entries]) {
      if (entry.batchId !== null) continue;
      const rewritten = rewriteIds(entry, moved);
      if (rewritten !== entry) this.put(rewritten);
    }
  }
}

/** The entry with ids named in `moved` (entity key → server id) replaced; itself if none. */
function rewriteIds(entry: OutboxEntry, moved: ReadonlyMap<string, string>): OutboxEntry {
  const entityId = moved.get(entityKey(entry.entityType, entry.entityId)) ?? entry.entityId;
  let changeData = entry.changeData;
  for (const relation of getForeignKeyRelations(entry.entityType)) {
    const value = changeData[relation.sourceField];
    if (typeof value !== 'string') continue;
    const serverId = moved.get(entityKey(relation.targetEntity, value));
    if (serverId !== undefined) changeData = { ...changeData, [relation.sourceField]: serverId };
  }
  return entityId === entry.entityId && changeData === entry.changeData
    ? entry
    : { ...entry, entityId, changeData };
}

/** The id a local id now goes by (one lookup; use OutboxIndex for many). */
export function canonicalId(tx: StoreTransaction, entityType: EntityType, id: string): string {
  return tx.getIdMapping(entityType, id) ?? id;
}

/**
 * `base` with the device's pending changes re-applied in order: what the app should see
 * while those changes are on their way. Keeps the base's version, so the pending changes
 * still carry the version they were made on and the server decides any conflict by policy.
 */
export function overlayPending(base: EntityRow, pending: readonly OutboxEntry[]): EntityRow {
  let row = base;
  for (const entry of pending) {
    switch (entry.changeType) {
      case 'CREATE':
      case 'UPDATE':
        row = { ...row, data: { ...row.data, ...entry.changeData }, updatedAt: entry.updatedAt };
        break;
      case 'DELETE':
        row = { ...row, deletedAt: row.deletedAt ?? entry.updatedAt, updatedAt: entry.updatedAt };
        break;
    }
  }
  return row;
}

export type NewOutboxEntry = Pick<
  OutboxEntry,
  | 'requestId'
  | 'entityType'
  | 'entityId'
  | 'changeType'
  | 'changeData'
  | 'syncVersion'
  | 'updatedAt'
>;

/**
 * Queues a local change. An UPDATE folds into the entity's last queued CREATE or UPDATE
 * when that one is not in flight: two UPDATEs made on the same base version would otherwise
 * reach the server as a conflict with the device's own earlier edit. Anything else appends,
 * so the outbox replays the device's history in order (a DELETE after a CREATE included:
 * children may name the entity, and the server must know it to resolve them).
 */
export function enqueueChange(tx: StoreTransaction, change: NewOutboxEntry): OutboxEntry {
  if (change.changeType === 'UPDATE') {
    // Only an UPDATE looks back (a read of the outbox); CREATE and DELETE just append.
    const outbox = new OutboxIndex(tx);
    const last = outbox.pendingFor(change.entityType, change.entityId).at(-1);
    if (last !== undefined && last.batchId === null && last.changeType !== 'DELETE') {
      const merged: OutboxEntry = {
        ...last,
        changeData: { ...last.changeData, ...change.changeData },
        updatedAt: change.updatedAt,
      };
      outbox.put(merged);
      return merged;
    }
  }
  const entry: OutboxEntry = {
    ...change,
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    batchId: null,
  };
  tx.putOutbox(entry);
  return entry;
}

/** The canonical keys of the entities an entry's foreign keys name. */
export function referencedKeys(outbox: OutboxIndex, entry: OutboxEntry): string[] {
  const keys: string[] = [];
  for (const relation of getForeignKeyRelations(entry.entityType)) {
    const value = entry.changeData[relation.sourceField];
    if (typeof value === 'string') {
      keys.push(entityKey(relation.targetEntity, outbox.canonical(relation.targetEntity, value)));
    }
  }
  return keys;
}
