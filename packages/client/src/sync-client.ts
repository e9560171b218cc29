import {
  IdSchema,
  MAX_CHANGES_PER_PUSH,
  MAX_PULL_LIMIT,
  PullResultSchema,
  PushResultSchema,
  ResolveConflictsResultSchema,
  SyncStatusSchema,
  type ClientResolutionStrategy,
  type EntityType,
  type PushResult,
  type ResolveConflictsResult,
  type SyncChangeInput,
  type SyncStatus,
} from '@sync-engine/shared';
import { selectBatch } from './batch-selection.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.ts';
import { rowFromServerState } from './entity-row.ts';
import { LocalValidationError, SyncHttpError } from './errors.ts';
import { SyncTransport, type FetchFunction, type TokenProvider } from './http-transport.ts';
import { findRow, recordCreate, recordDelete, recordUpdate } from './local-writes.ts';
import { OutboxIndex, overlayPending } from './outbox.ts';
import { CURSOR_META_KEY, applyPulledChanges } from './pull-apply.ts';
import { PENDING_BATCH_META_KEY, applyPushAnswer, deadLetter } from './push-answer.ts';
import type {
  DeadLetter,
  EntityRow,
  LocalStore,
  OutboxEntry,
  PendingBatch,
  PendingConflict,
  StoreTransaction,
} from './store/local-store.ts';

export interface SyncClientOptions {
  /** Server origin, e.g. `https://sync.example.com`. */
  readonly baseUrl: string;
  /** This installation's id (1–128 chars), stable across restarts. */
  readonly deviceId: string;
  readonly store: LocalStore;
  readonly getToken: TokenProvider;
  /** Defaults to globalThis.fetch. */
  readonly fetch?: FetchFunction;
  /** Retries of one request (network errors, 409, 429, 5xx). */
  readonly retry?: Partial<RetryPolicy>;
  /** Retries of one change the server failed retryably; after maxAttempts it is dead-lettered. */
  readonly changeRetry?: Partial<RetryPolicy>;
  /** Changes per push; the server's limit (SYNC_MAX_CHANGES_PER_PUSH) is the ceiling. */
  readonly maxChangesPerPush?: number;
  /** Changes per pull page (1–1000). */
  readonly pullLimit?: number;
  readonly requestTimeoutMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** New client ids for CREATE (default `local-<uuid>`) and request ids. */
  readonly ids?: Partial<IdFactory>;
}

export interface IdFactory {
  localId(entityType: EntityType): string;
  requestId(): string;
  syncOperationId(): string;
}

/** What one `sync()` did. */
export interface SyncReport {
  readonly push: {
    readonly batches: number;
    readonly applied: number;
    readonly conflicts: number;
    readonly manualConflicts: number;
    readonly retrying: number;
    readonly deadLettered: number;
  };
  readonly pull: {
    readonly pages: number;
    readonly changes: number;
    readonly restartedFromScratch: boolean;
  };
  /** Changes still queued (backing off, or made while syncing). */
  readonly pendingChanges: number;
}

const DEFAULT_CHANGE_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
});

const DEFAULT_IDS: IdFactory = {
  localId: () => `local-${globalThis.crypto.randomUUID()}`,
  requestId: () => globalThis.crypto.randomUUID(),
  syncOperationId: () => globalThis.crypto.randomUUID(),
};

function toChangeInput(entry: OutboxEntry): SyncChangeInput {
  return {
    requestId: entry.requestId,
    entityType: entry.entityType,
    entityId: entry.entityId,
    changeType: entry.changeType,
    changeData: { ...entry.changeData },
    syncVersion: entry.syncVersion,
    updatedAt: entry.updatedAt,
  };
}

/**
 * An offline-first client of the Sync Engine. Writes land in the local store at once and
 * queue an outbox change; `sync()` pushes the outbox, merges the answer (id remaps with FK
 * cascade, conflict outcomes, failures), then pulls every change since its cursor.
 */
export class SyncClient {
  readonly deviceId: string;
  private readonly store: LocalStore;
  private readonly transport: SyncTransport;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly ids: IdFactory;
  private readonly changeRetry: RetryPolicy;
  private readonly maxChangesPerPush: number;
  private readonly pullLimit: number;
  private running: Promise<SyncReport> | undefined;

  constructor(options: SyncClientOptions) {
    const device = IdSchema.safeParse(options.deviceId);
    if (!device.success) throw new TypeError('deviceId must be 1–128 characters without NUL');
    this.deviceId = options.deviceId;
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.ids = { ...DEFAULT_IDS, ...options.ids };
    this.changeRetry = { ...DEFAULT_CHANGE_RETRY, ...options.changeRetry };
    this.maxChangesPerPush = Math.max(
      1,
      Math.min(options.maxChangesPerPush ?? MAX_CHANGES_PER_PUSH, MAX_CHANGES_PER_PUSH),
    );
    this.pullLimit = Math.max(1, Math.min(options.pullLimit ?? 500, MAX_PULL_LIMIT));
    this.transport = new SyncTransport({
      baseUrl: options.baseUrl,
      getToken: options.getToken,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      random: this.random,
      now: this.now,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: options.requestTimeoutMs }),
    });
  }

  // ---- local reads and writes ---------------------------------------------------------

  /** Creates an entity locally under a new client id (or `options.id`) and queues its CREATE. */
  async create(
    entityType: EntityType,
    data: Readonly<Record<string, unknown>>,
    options: { id?: string } = {},
  ): Promise<EntityRow> {
    const id = options.id ?? this.ids.localId(entityType);
    if (!IdSchema.safeParse(id).success) {
      throw new LocalValidationError(entityType, [
        { field: 'entityId', message: 'must be 1–128 characters without NUL' },
      ]);
    }
    const ctx = this.writeContext();
    return this.store.transaction((tx) => recordCreate(tx, ctx, entityType, id, data));
  }

  /** Applies a patch locally and queues the UPDATE. `id` may be the client id or the server id. */
  async update(
    entityType: EntityType,
    id: string,
    patch: Readonly<Record<string, unknown>>,
  ): Promise<EntityRow> {
    const ctx = this.writeContext();
    return this.store.transaction((tx) => recordUpdate(tx, ctx, entityType, id, patch));
  }

  /** Tombstones the entity locally and queues the DELETE. */
  async delete(entityType: EntityType, id: string): Promise<EntityRow> {
    const ctx = this.writeContext();
    return this.store.transaction((tx) => recordDelete(tx, ctx, entityType, id));
  }

  /** The entity by client id or server id (tombstones included); undefined when unknown. */
  async get(entityType: EntityType, id: string): Promise<EntityRow | undefined> {
    return this.store.transaction((tx) => findRow(tx, entityType, id));
  }

  /** Live entities of a type (tombstones too with `includeDeleted`). */
  async list(
    entityType: EntityType,
    options: { includeDeleted?: boolean } = {},
  ): Promise<EntityRow[]> {
    const rows = await this.store.transaction((tx) => tx.listRows(entityType));
    return options.includeDeleted === true ? rows : rows.filter((r) => r.deletedAt === null);
  }

  /** Changes not yet accepted by the server, in the order they were made. */
  async pendingChanges(): Promise<OutboxEntry[]> {
    return this.store.transaction((tx) => tx.listOutbox());
  }

  /** Changes the server refused for good (validation, unknown entity, retries exhausted). */
  async deadLetters(): Promise<DeadLetter[]> {
    return this.store.transaction((tx) => tx.listDeadLetters());
  }

  async dismissDeadLetter(requestId: string): Promise<void> {
    await this.store.transaction((tx) => tx.removeDeadLetter(requestId));
  }

  /** Conflicts waiting for the user (MANUAL_REQUIRED); see resolveConflict. */
  async conflicts(): Promise<PendingConflict[]> {
    return this.store.transaction((tx) => tx.listConflicts());
  }

  // ---- sync ---------------------------------------------------------------------------

  /**
   * Pushes the outbox, then pulls until the feed is exhausted. Calls made while a sync runs
   * join it. Throws a SyncClientError when the server stays unreachable or refuses the
   * request; what was done so far stays done, and an unanswered push is resent with the same
   * syncOperationId by the next sync().
   */
  sync(): Promise<SyncReport> {
    this.running ??= this.runSync().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Forgets the cursor and pulls everything again (the answer to 410 CURSOR_EXPIRED). */
  async resync(): Promise<SyncReport> {
    await this.store.transaction((tx) => tx.setMeta(CURSOR_META_KEY, null));
    return this.sync();
  }

  /** The server's view of this device: last sync, pending changes, pending conflicts. */
  async status(): Promise<SyncStatus> {
    const answer = await this.transport.send({
      method: 'GET',
      path: '/sync/status',
      query: { deviceId: this.deviceId },
      okStatuses: [200],
      schema: SyncStatusSchema,
    });
    return answer.body;
  }

  /**
   * Decides a pending conflict on the server; the entity's resulting state replaces the
   * local row (queued local changes stay on top). A conflict the server no longer has
   * pending is dropped locally too.
   */
  async resolveConflict(
    conflictId: string,
    strategy: ClientResolutionStrategy,
    mergedData?: Readonly<Record<string, unknown>>,
  ): Promise<ResolveConflictsResult> {
    const answer = await this.transport.send({
      method: 'POST',
      path: '/sync/conflicts/resolve',
      body: {
        resolutions: [
          { conflictId, strategy, ...(mergedData === undefined ? {} : { mergedData }) },
        ],
      },
      okStatuses: [200, 207],
      schema: ResolveConflictsResultSchema,
    });
    await this.store.transaction((tx) => {
      for (const resolved of answer.body.resolved) {
        const base = rowFromServerState(
          resolved.entityType,
          { ...resolved.state, id: resolved.entityId },
          resolved.version,
        );
        const current = tx.getRow(resolved.entityType, base.id);
        if (current === undefined || current.version <= base.version) {
          tx.putRow(
            resolved.entityType,
            overlayPending(base, new OutboxIndex(tx).pendingFor(resolved.entityType, base.id)),
          );
        }
        tx.removeConflict(resolved.conflictId);
      }
      for (const failed of answer.body.failed) {
        if (
          failed.error.code === 'CONFLICT_ALREADY_RESOLVED' ||
          failed.error.code === 'NOT_FOUND'
        ) {
          tx.removeConflict(failed.conflictId);
        }
      }
    });
    return answer.body;
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.store.close();
  }

  private writeContext() {
    return { now: this.now(), requestId: this.ids.requestId() };
  }

  private async runSync(): Promise<SyncReport> {
    const push = await this.pushOutbox();
    const pull = await this.pullChanges();
    const pendingChanges = (await this.store.transaction((tx) => tx.listOutbox())).length;
    return { push, pull, pendingChanges };
  }

  private async pushOutbox(): Promise<SyncReport['push']> {
    const totals = {
      batches: 0,
      applied: 0,
      conflicts: 0,
      manualConflicts: 0,
      retrying: 0,
      deadLettered: 0,
    };
    // A change that failed once waits for a later sync(): its backoff may well be zero.
    const failedThisSync = new Set<string>();
    let maxChanges = this.maxChangesPerPush;
    for (;;) {
      const now = this.now();
      const batch = await this.store.transaction((tx) =>
        this.nextBatch(tx, maxChanges, failedThisSync, now),
      );
      if (batch === undefined) return totals;
      let answer: PushResult;
      try {
        answer = await this.sendPush(batch);
      } catch (error) {
        if (!(error instanceof SyncHttpError)) throw error;
        if ((error.status === 413 || error.status === 400) && batch.changes.length > 1) {
          // Too large for the server (413, or 400 from a lower SYNC_MAX_CHANGES_PER_PUSH), or
          // one change it refuses outright: halve the batches (a new syncOperationId, since
          // nothing was applied) until the refused change, if any, travels alone.
          maxChanges = Math.max(1, Math.floor(batch.changes.length / 2));
          await this.store.transaction((tx) => this.dissolve(tx, batch));
          continue;
        }
        if (error.status === 422) {
          // The operation id is taken by another body (a store restored from a backup):
          // nothing of this batch was applied under it, so send it again under a new one.
          await this.store.transaction((tx) => this.dissolve(tx, batch));
          continue;
        }
        if (error.status === 400 || error.status === 413) {
          // A single change the server refuses as a request: retrying it cannot help.
          await this.store.transaction((tx) => {
            const failed = {
              code: error.code,
              message: error.message,
              details: [...error.details],
            };
            for (const entry of tx.listOutbox()) {
              if (entry.batchId === batch.syncOperationId)
                deadLetter(tx, { ...entry, batchId: null }, failed, this.now());
            }
            tx.setMeta(PENDING_BATCH_META_KEY, null);
          });
          totals.deadLettered += batch.changes.length;
          continue;
        }
        throw error;
      }
      const summary = await this.store.transaction((tx) =>
        applyPushAnswer(tx, batch, answer, {
          now: this.now(),
          random: this.random,
          changeRetry: this.changeRetry,
        }),
      );
      for (const id of summary.retryingRequestIds) failedThisSync.add(id);
      totals.batches++;
      totals.applied += summary.applied;
      totals.conflicts += summary.conflicts;
      totals.manualConflicts += summary.manualConflicts;
      totals.retrying += summary.retrying;
      totals.deadLettered += summary.deadLettered;
    }
  }

  /** The batch in flight (from an earlier, unanswered push), or a new one, frozen in the store. */
  private nextBatch(
    tx: StoreTransaction,
    maxChanges: number,
    exclude: ReadonlySet<string>,
    now: Date,
  ): PendingBatch | undefined {
    const stored = tx.getMeta(PENDING_BATCH_META_KEY);
    if (stored !== undefined) return JSON.parse(stored) as PendingBatch;
    const entries = selectBatch(tx, { maxChanges, now, exclude });
    if (entries.length === 0) return undefined;
    const syncOperationId = this.ids.syncOperationId();
    for (const entry of entries) tx.putOutbox({ ...entry, batchId: syncOperationId });
    const batch: PendingBatch = {
      syncOperationId,
      lastSyncCursor: tx.getMeta(CURSOR_META_KEY) ?? null,
      changes: entries.map(toChangeInput),
    };
    tx.setMeta(PENDING_BATCH_META_KEY, JSON.stringify(batch));
    return batch;
  }

  private dissolve(tx: StoreTransaction, batch: PendingBatch): void {
    for (const entry of tx.listOutbox()) {
      if (entry.batchId === batch.syncOperationId) tx.putOutbox({ ...entry, batchId: null });
    }
    tx.setMeta(PENDING_BATCH_META_KEY, null);
  }

  private async sendPush(batch: PendingBatch): Promise<PushResult> {
    const answer = await this.transport.send({
      method: 'POST',
      path: '/sync/push',
      body: {
        syncOperationId: batch.syncOperationId,
        deviceId: this.deviceId,
        lastSyncCursor: batch.lastSyncCursor,
        changes: batch.changes,
      },
      okStatuses: [200, 207],
      schema: PushResultSchema,
    });
    return answer.body;
  }

  private async pullChanges(): Promise<SyncReport['pull']> {
    let cursor = await this.store.transaction((tx) => tx.getMeta(CURSOR_META_KEY));
    let pages = 0;
    let changes = 0;
    let restartedFromScratch = false;
    for (;;) {
      let page;
      try {
        page = await this.transport.send({
          method: 'GET',
          path: '/sync/changes',
          query: { cursor, deviceId: this.deviceId, limit: String(this.pullLimit) },
          okStatuses: [200],
          schema: PullResultSchema,
        });
      } catch (error) {
        const unusable =
          error instanceof SyncHttpError &&
          (error.status === 410 || error.code === 'INVALID_CURSOR');
        if (!unusable || cursor === undefined || restartedFromScratch) throw error;
        // Compacted away (410) or no longer accepted (e.g. the server's key changed): start
        // over; applying full states again is harmless, since they replace by version.
        restartedFromScratch = true;
        cursor = undefined;
        await this.store.transaction((tx) => tx.setMeta(CURSOR_META_KEY, null));
        continue;
      }
      const body = page.body;
      await this.store.transaction((tx) => {
        applyPulledChanges(tx, body.changes);
        // The cursor moves with the changes it covers, in the same transaction.
        tx.setMeta(CURSOR_META_KEY, body.cursor);
      });
      pages++;
      changes += body.changes.length;
      cursor = body.cursor;
      if (!body.hasMore) return { pages, changes, restartedFromScratch };
    }
  }
}
