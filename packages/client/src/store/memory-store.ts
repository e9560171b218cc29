import type { EntityType } from '@sync-engine/shared';
import { SyncClientError } from '../errors.ts';
import { planIdCascade } from './id-cascade.ts';
import type {
  DeadLetter,
  EntityRow,
  IdMappingRecord,
  LocalStore,
  OutboxEntry,
  PendingConflict,
  StoreTransaction,
} from './local-store.ts';

/*
 * The in-memory adapter: for tests, simulations and apps that keep nothing across restarts.
 * Atomicity comes from an undo log: every write records how to take itself back, and a
 * transaction that throws replays the log backwards. Values are cloned on the way in and
 * out, so a caller mutating what it got cannot change the store behind its back.
 */

type Undo = () => void;

class UndoableMap<K, V> {
  readonly map = new Map<K, V>();

  constructor(private readonly log: () => Undo[] | undefined) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.record(key);
    this.map.set(key, value);
  }

  delete(key: K): void {
    if (!this.map.has(key)) return;
    this.record(key);
    this.map.delete(key);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  private record(key: K): void {
    const log = this.log();
    if (log === undefined) throw new Error('invariant: store write outside a transaction');
    const had = this.map.has(key);
    const previous = this.map.get(key);
    log.push(had ? () => void this.map.set(key, previous as V) : () => void this.map.delete(key));
  }
}

const clone = <T>(value: T): T => structuredClone(value);

class MemoryStore implements LocalStore {
  private undo: Undo[] | undefined;
  private closed = false;
  private readonly log = () => this.undo;
  private readonly rows = new Map<EntityType, UndoableMap<string, EntityRow>>();
  /** requestId → entry with its position; a replaced entry keeps its place. */
  private readonly outbox = new UndoableMap<string, { seq: number; entry: OutboxEntry }>(this.log);
  private nextSeq = 1;
  private readonly deadLetters = new UndoableMap<string, DeadLetter>(this.log);
  private readonly conflicts = new UndoableMap<string, PendingConflict>(this.log);
  private readonly idMap = new UndoableMap<string, IdMappingRecord>(this.log);
  private readonly meta = new UndoableMap<string, string>(this.log);

  private table(entityType: EntityType): UndoableMap<string, EntityRow> {
    let table = this.rows.get(entityType);
    if (table === undefined) {
      table = new UndoableMap(this.log);
      this.rows.set(entityType, table);
    }
    return table;
  }

  private readonly tx: StoreTransaction = {
    getRow: (type, id) => clone(this.table(type).get(id)),
    listRows: (type) =>
      [...this.table(type).values()].sort((a, b) => compare(a.id, b.id)).map(clone),
    putRow: (type, row) => this.table(type).set(row.id, clone(row)),
    removeRow: (type, id) => this.table(type).delete(id),
    remapId: (type, clientId, serverId) => {
      const edits = planIdCascade(
        (t) => this.table(t).values(),
        (t, id) => this.table(t).get(id),
        type,
        clientId,
        serverId,
      );
      for (const edit of edits) {
        if (edit.kind === 'put') this.table(edit.entityType).set(edit.row.id, clone(edit.row));
        else this.table(edit.entityType).delete(edit.id);
      }
    },

    listOutbox: () =>
      [...this.outbox.values()].sort((a, b) => a.seq - b.seq).map((s) => clone(s.entry)),
    putOutbox: (entry) => {
      const seq = this.outbox.get(entry.requestId)?.seq ?? this.nextSeq++;
      this.outbox.set(entry.requestId, { seq, entry: clone(entry) });
    },
    removeOutbox: (requestId) => this.outbox.delete(requestId),

    listDeadLetters: () => [...this.deadLetters.values()].map(clone),
    putDeadLetter: (letter) => this.deadLetters.set(letter.entry.requestId, clone(letter)),
    removeDeadLetter: (requestId) => this.deadLetters.delete(requestId),

    listConflicts: () => [...this.conflicts.values()].map(clone),
    putConflict: (conflict) => this.conflicts.set(conflict.conflictId, clone(conflict)),
    removeConflict: (conflictId) => this.conflicts.delete(conflictId),

    getIdMapping: (type, clientId) => this.idMap.get(`${type}\u0000${clientId}`)?.serverId,
    putIdMapping: (mapping) =>
      this.idMap.set(`${mapping.entityType}\u0000${mapping.clientId}`, clone(mapping)),
    listIdMappings: () => [...this.idMap.values()].map(clone),

    getMeta: (key) => this.meta.get(key),
    setMeta: (key, value) => (value === null ? this.meta.delete(key) : this.meta.set(key, value)),
  };

  async transaction<T>(fn: (tx: StoreTransaction) => T): Promise<T> {
    if (this.closed) throw new SyncClientError('CLOSED', 'the store is closed');
    if (this.undo !== undefined) throw new Error('invariant: transactions do not nest');
    this.undo = [];
    try {
      return fn(this.tx);
    } catch (error) {
      for (const undo of this.undo.reverse()) undo();
      throw error;
    } finally {
      this.undo = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A LocalStore that lives in memory (gone when the process ends). */
export function createMemoryStore(): LocalStore {
  return new MemoryStore();
}
