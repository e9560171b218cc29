import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { compareBySyncOrder, type EntityConflictConfigMap } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import { isTransactionRace, retryTransaction } from '../../db/transaction-retry.ts';
import { assertSyncLockHeld, LockLostError, type HeldSyncLock } from '../sync-lock.ts';
import { decideBatch, type BatchOutcome, type DecideContext } from './batch-decider.ts';
import { readBatchSnapshot } from './batch-reader.ts';
import { ConcurrentMappingError, writeBatch } from './batch-writer.ts';
import { createConflictResolver, deviceLocalWinsFields } from './conflict-resolver.ts';
import type { MutationTrace, PushResult, SyncChangeInput } from './push-types.ts';

/** Changes decided and written per transaction. */
export const PUSH_BATCH_SIZE = 100;
const MAX_BATCH_ATTEMPTS = 4;

export interface ProcessOptions {
  readonly db: Kysely<DB>;
  readonly conflictConfig: EntityConflictConfigMap;
  readonly catalogUserId: string;
  readonly lock: HeldSyncLock;
  readonly syncOperationId: string;
  /** Runs inside each batch transaction just before commit (tests hold a commit open). */
  readonly beforeCommit?: ((info: { userId: string; deviceId: string; syncOperationId: string }) => Promise<void>) | undefined;
}

export interface ProcessedPush {
  readonly result: PushResult;
  readonly mutations: MutationTrace[];
  readonly entityTypesChanged: Set<string>;
}

/** A push's changes in ENTITY_SYNC_ORDER, stable within a type; `index` is the position sent. */
export function syncOrdered(changes: readonly SyncChangeInput[]): { change: SyncChangeInput; index: number }[] {
  return changes
    .map((change, index) => ({ change, index }))
    .sort((a, b) => compareBySyncOrder(a.change.entityType, b.change.entityType) || a.index - b.index);
}

/**
 * What the pure decider needs besides the rows: who pushes, the conflict config in force
 * and a fresh server time per batch. Shared by the write path and the replay preview so
 * both decide alike.
 */
export function decideContextFactory(opts: {
  readonly userId: string;
  readonly deviceId: string;
  readonly conflictConfig: EntityConflictConfigMap;
  readonly catalogUserId: string;
}): () => DecideContext {
  const resolver = createConflictResolver(opts.conflictConfig);
  const localWins = deviceLocalWinsFields(opts.conflictConfig);
  return () => ({
    userId: opts.userId,
    deviceId: opts.deviceId,
    catalogUserId: opts.catalogUserId,
    now: new Date().toISOString(),
    resolveConflict: resolver,
    deviceLocalWinsFields: localWins,
    newId: randomUUID,
  });
}

/**
 * The batch lost a race and is decided again: a deadlock or serialization failure, another
 * device mapping the same client id first, or a unique key a concurrent batch took (23505).
 */
function isRetryableBatchError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof ConcurrentMappingError || isTransactionRace(err) || code === '23505';
}

/**
 * Applies a push's changes in ENTITY_SYNC_ORDER (stable within a type), in batches: each
 * batch is read once, decided in memory and written set-based in one transaction together
 * with its outbox changes, id mappings and conflict records. If the database itself
 * rejects a batch, its changes are isolated one per transaction so only the bad one fails.
 */
export async function processChanges(opts: ProcessOptions, changes: readonly SyncChangeInput[]): Promise<ProcessedPush> {
  const ordered = syncOrdered(changes);

  const result: PushResult = { syncOperationId: opts.syncOperationId, successful: [], failed: [], conflicts: [], idMappings: [] };
  const mutations: MutationTrace[] = [];
  const seenMappings = new Set<string>();
  const entityTypesChanged = new Set<string>();

  const collect = (outcome: BatchOutcome) => {
    result.successful.push(...outcome.successful);
    result.failed.push(...outcome.failed);
    result.conflicts.push(...outcome.conflicts);
    for (const m of outcome.idMappings) {
      const key = `${m.entityType}\u0000${m.clientId}`;
      if (seenMappings.has(key)) continue;
      seenMappings.add(key);
      result.idMappings.push(m);
    }
    mutations.push(...outcome.mutations);
    for (const type of outcome.writes.entities.keys()) entityTypesChanged.add(type);
    if (outcome.writes.sessionsToRecompute.size > 0) entityTypesChanged.add('sessions');
  };

  const decideContext = decideContextFactory({
    userId: opts.lock.userId,
    deviceId: opts.lock.deviceId,
    conflictConfig: opts.conflictConfig,
    catalogUserId: opts.catalogUserId,
  });

  const runInTransaction = (batch: typeof ordered) =>
    opts.db.transaction().execute(async (trx) => {
      await assertSyncLockHeld(trx, opts.lock);
      const snapshot = await readBatchSnapshot(trx, opts.lock.userId, opts.lock.deviceId, batch.map((b) => b.change));
      const outcome = decideBatch(decideContext(), snapshot, batch);
      await writeBatch(trx, { userId: opts.lock.userId, deviceId: opts.lock.deviceId, syncOperationId: opts.syncOperationId }, outcome.writes);
      await opts.beforeCommit?.({ userId: opts.lock.userId, deviceId: opts.lock.deviceId, syncOperationId: opts.syncOperationId });
      return outcome;
    });

  for (let start = 0; start < ordered.length; start += PUSH_BATCH_SIZE) {
    // Embedded PGlite answers queries without ever yielding to the event loop, so a long
    // push would hold it for its whole run: no heartbeat, no other request. Yield between
    // batches (a no-op cost on PostgreSQL, whose I/O yields anyway).
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = ordered.slice(start, start + PUSH_BATCH_SIZE);
    try {
      collect(await withRetries(() => runInTransaction(batch)));
    } catch (err) {
      if (err instanceof LockLostError) throw err;
      // The database refused the batch as a whole: find the culprit one change at a time.
      for (const item of batch) {
        try {
          collect(await withRetries(() => runInTransaction([item])));
        } catch (itemErr) {
          if (itemErr instanceof LockLostError) throw itemErr;
          const c = item.change;
          result.failed.push({
            requestId: c.requestId,
            clientId: c.clientId ?? c.entityId,
            entityType: c.entityType,
            entityId: c.entityId,
            retryable: true,
            error: { code: 'INTERNAL', message: 'The server could not apply this change; push it again' },
          });
          mutations.push({
            index: item.index,
            requestId: c.requestId,
            entityType: c.entityType,
            entityId: c.entityId,
            changeType: c.changeType,
            payload: c.changeData,
            outcome: 'rejected',
            reason: { code: 'INTERNAL' },
            before: null,
            after: null,
            durationMs: 0,
          });
        }
      }
    }
  }
  return { result, mutations, entityTypesChanged };
}

function withRetries<T>(run: () => Promise<T>): Promise<T> {
  return retryTransaction(run, { maxAttempts: MAX_BATCH_ATTEMPTS, retryable: isRetryableBatchError });
}
