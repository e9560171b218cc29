import type { EntityType, ErrorObject, SyncChangeInput, SyncChangeType } from '@sync-engine/shared';

/**
 * One entity as the device knows it, keyed by its local id: the client id it was created
 * with until the server maps it, the server id afterwards.
 */
export interface EntityRow {
  readonly id: string;
  /** Server version the row reflects; 0 for an entity the server has not accepted yet. */
  readonly version: number;
  /** Tombstone time; tombstones are kept so foreign keys naming them stay meaningful. */
  readonly deletedAt: string | null;
  /** Last local edit or server state time (informational). */
  readonly updatedAt: string | null;
  /** Every registry field of the entity type (foreign keys included), camelCase. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** A local change waiting to be pushed (the seed's outbox event). */
export interface OutboxEntry {
  /** Client outbox event id; the server reports it back and never applies it twice. */
  readonly requestId: string;
  readonly entityType: EntityType;
  /** Local id of the entity when the change was made (a client id or a server id). */
  readonly entityId: string;
  readonly changeType: SyncChangeType;
  /** CREATE: the fields set; UPDATE: the patch; DELETE: empty. */
  readonly changeData: Readonly<Record<string, unknown>>;
  /** The server version the local copy was based on; an older one than the server's is a conflict. */
  readonly syncVersion: number;
  /** When the change was made, for LAST_WRITE_WINS. */
  readonly updatedAt: string;
  /** Pushes that failed retryably so far. */
  readonly attempts: number;
  /** Not pushed again before this time (retry backoff); null = now. */
  readonly nextAttemptAt: string | null;
  readonly lastError: ErrorObject | null;
  /**
   * syncOperationId of the push in flight that carries this entry. While set the entry is
   * frozen: a retried push must send the very same body, so later edits queue separately.
   */
  readonly batchId: string | null;
}

/** A change the server refused for good; kept for the app to read (and dismiss). */
export interface DeadLetter {
  readonly entry: OutboxEntry;
  readonly error: ErrorObject;
  readonly deadAt: string;
}

/** A conflict the server stored as pending (MANUAL_REQUIRED): the app decides it. */
export interface PendingConflict {
  readonly conflictId: string;
  readonly entityType: EntityType;
  /** Server id of the entity. */
  readonly entityId: string;
  readonly requestId: string;
  readonly strategy: string;
  /** The change this device pushed, which the server did not apply. */
  readonly localChange: Readonly<Record<string, unknown>>;
  readonly clientVersion: number;
  readonly serverVersion: number;
  readonly serverState: Readonly<Record<string, unknown>>;
  readonly receivedAt: string;
}

/** A push in flight: the exact body sent, resent unchanged (same syncOperationId) on retry. */
export interface PendingBatch {
  readonly syncOperationId: string;
  readonly lastSyncCursor: string | null;
  readonly changes: readonly SyncChangeInput[];
}

export interface IdMappingRecord {
  readonly entityType: EntityType;
  readonly clientId: string;
  readonly serverId: string;
}

/**
 * Synchronous access inside one store transaction. Sync on purpose: every decision of the
 * sync core (merging an answer, cascading an id) runs inside one atomic unit, and both
 * adapters (a Map, better-sqlite3) are synchronous engines.
 */
export interface StoreTransaction {
  getRow(entityType: EntityType, id: string): EntityRow | undefined;
  /** Every row of the type, tombstones included, ordered by id. */
  listRows(entityType: EntityType): EntityRow[];
  putRow(entityType: EntityType, row: EntityRow): void;
  removeRow(entityType: EntityType, id: string): void;
  /**
   * Moves the row `clientId` to `serverId` and rewrites every foreign key naming it (all of
   * RELATION_GRAPH's relations targeting `entityType`), with buildIdCascadeStatements'
   * rules: when a row `serverId` is already local it is kept and the local one dropped;
   * running it twice changes nothing; equal ids change nothing.
   */
  remapId(entityType: EntityType, clientId: string, serverId: string): void;

  /** The outbox in the order changes were made. */
  listOutbox(): OutboxEntry[];
  /** Inserts at the end, or replaces an entry with the same requestId keeping its position. */
  putOutbox(entry: OutboxEntry): void;
  removeOutbox(requestId: string): void;

  listDeadLetters(): DeadLetter[];
  putDeadLetter(letter: DeadLetter): void;
  removeDeadLetter(requestId: string): void;

  listConflicts(): PendingConflict[];
  putConflict(conflict: PendingConflict): void;
  removeConflict(conflictId: string): void;

  getIdMapping(entityType: EntityType, clientId: string): string | undefined;
  putIdMapping(mapping: IdMappingRecord): void;
  listIdMappings(): IdMappingRecord[];

  getMeta(key: string): string | undefined;
  /** `null` removes the key. */
  setMeta(key: string, value: string | null): void;
}

/**
 * The device's local database: entity rows, outbox, dead letters, pending conflicts, id
 * map and sync cursor. Adapters: memory (createMemoryStore) and SQLite
 * (`@sync-engine/client/sqlite`); both pass one conformance suite.
 */
export interface LocalStore {
  /**
   * Runs `fn` atomically: either every write it made lands or, when it throws, none does.
   * Transactions run one at a time.
   */
  transaction<T>(fn: (tx: StoreTransaction) => T): Promise<T>;
  close(): Promise<void>;
}
