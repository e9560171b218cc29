import type {
  ErrorObject,
  PushConflictEntry,
  PushFailedEntry,
  PushResult,
  PushSuccessEntry,
} from '@sync-engine/shared';
import { backoffDelayMs, type RetryPolicy } from './backoff.ts';
import { rowFromServerState } from './entity-row.ts';
import { OutboxIndex, overlayPending } from './outbox.ts';
import type { OutboxEntry, PendingBatch, StoreTransaction } from './store/local-store.ts';

export const PENDING_BATCH_META_KEY = 'pendingBatch';

export interface PushAnswerContext {
  readonly now: Date;
  readonly random: () => number;
  /** Backoff of a change that failed retryably; after maxAttempts failures it is dead-lettered. */
  readonly changeRetry: RetryPolicy;
}

/** What one push answer did to the local store. */
export interface PushAnswerSummary {
  readonly applied: number;
  readonly conflicts: number;
  readonly manualConflicts: number;
  readonly retrying: number;
  readonly deadLettered: number;
  /** requestIds that failed retryably: not sent again in the same sync. */
  readonly retryingRequestIds: readonly string[];
}

/**
 * Merges a push answer into the store, in one transaction: id mappings first (the row, every
 * foreign key naming it and the queued changes move to the server id), then each change by
 * where the server put it. Afterwards no entry of the batch is in flight any more.
 */
export function applyPushAnswer(
  tx: StoreTransaction,
  batch: PendingBatch,
  answer: PushResult,
  ctx: PushAnswerContext,
): PushAnswerSummary {
  const outbox = new OutboxIndex(tx);
  const inBatch = new Map<string, OutboxEntry>();
  for (const entry of outbox.all()) {
    if (entry.batchId === batch.syncOperationId) inBatch.set(entry.requestId, entry);
  }
  outbox.addMappings(answer.idMappings);

  let applied = 0;
  let manualConflicts = 0;
  let deadLettered = 0;
  const retryingRequestIds: string[] = [];
  const take = (requestId: string): OutboxEntry | undefined => {
    const entry = inBatch.get(requestId);
    inBatch.delete(requestId);
    return entry;
  };

  for (const success of answer.successful) {
    const entry = take(success.requestId);
    if (entry === undefined) continue;
    outbox.remove(entry.requestId);
    applySuccess(tx, outbox, entry, success);
    applied++;
  }
  for (const conflict of answer.conflicts) {
    const entry = take(conflict.requestId);
    if (entry === undefined) continue;
    if (applyConflict(tx, outbox, entry, conflict, ctx.now)) manualConflicts++;
  }
  for (const failure of answer.failed) {
    const entry = take(failure.requestId);
    if (entry === undefined) continue;
    if (applyFailure(tx, outbox, entry, failure, ctx)) deadLettered++;
    else retryingRequestIds.push(entry.requestId);
  }
  // The answer names every change it was sent; one it left out is simply sent again.
  for (const entry of inBatch.values()) outbox.put({ ...entry, batchId: null });
  tx.setMeta(PENDING_BATCH_META_KEY, null);

  return {
    applied,
    conflicts: answer.conflicts.length,
    manualConflicts,
    retrying: retryingRequestIds.length,
    deadLettered,
    retryingRequestIds,
  };
}

/** The server holds the change: the row takes the version it reached. */
function applySuccess(
  tx: StoreTransaction,
  outbox: OutboxIndex,
  entry: OutboxEntry,
  success: PushSuccessEntry,
): void {
  const row = tx.getRow(entry.entityType, success.serverId);
  if (row !== undefined && success.version > row.version)
    tx.putRow(entry.entityType, { ...row, version: success.version });
  if (success.outcome === 'SKIPPED') return;
  // Later edits of this entity were made on top of this one, so they are based on the
  // version it produced: without this they would conflict with the device's own change.
  for (const later of outbox.pendingFor(entry.entityType, success.serverId)) {
    if (later.batchId === null && later.syncVersion === entry.syncVersion) {
      outbox.put({ ...later, syncVersion: success.version });
    }
  }
}

/** Returns true when the conflict waits for the app (MANUAL_REQUIRED). */
function applyConflict(
  tx: StoreTransaction,
  outbox: OutboxIndex,
  entry: OutboxEntry,
  conflict: PushConflictEntry,
  now: Date,
): boolean {
  const type = entry.entityType;
  const serverId = conflict.serverId;
  if (
    outbox.canonical(type, entry.entityId) !== serverId &&
    tx.getRow(type, entry.entityId) !== undefined
  ) {
    // The server knows the entity by an id the device never learnt; adopt it.
    outbox.addMappings([{ entityType: type, clientId: entry.entityId, serverId }]);
  }
  switch (conflict.outcome) {
    case 'REBASE_AND_RETRY': {
      // Not applied: the same change goes again, now based on the server's version.
      outbox.put({ ...entry, batchId: null, syncVersion: conflict.serverVersion });
      adoptState(tx, outbox, entry, conflict.serverState);
      return false;
    }
    case 'ADOPT_SERVER':
      outbox.remove(entry.requestId);
      adoptState(tx, outbox, entry, conflict.resolvedState ?? conflict.serverState);
      return false;
    case 'MANUAL_REQUIRED':
      outbox.remove(entry.requestId);
      tx.putConflict({
        conflictId: conflict.conflictId,
        entityType: type,
        entityId: serverId,
        requestId: entry.requestId,
        strategy: conflict.strategy,
        localChange: entry.changeData,
        clientVersion: conflict.clientVersion,
        serverVersion: conflict.serverVersion,
        serverState: conflict.serverState,
        receivedAt: now.toISOString(),
      });
      // The row shows what the server holds; the device's edit lives in the conflict.
      adoptState(tx, outbox, entry, conflict.serverState);
      return true;
    case 'SKIPPED':
      outbox.remove(entry.requestId);
      return false;
  }
}

/** The row becomes the server's state with the device's remaining queued changes on top. */
function adoptState(
  tx: StoreTransaction,
  outbox: OutboxIndex,
  entry: OutboxEntry,
  state: Readonly<Record<string, unknown>>,
): void {
  const base = rowFromServerState(entry.entityType, state);
  const current = tx.getRow(entry.entityType, base.id);
  if (current !== undefined && current.version > base.version) return;
  tx.putRow(entry.entityType, overlayPending(base, outbox.pendingFor(entry.entityType, base.id)));
}

/** Returns true when the change was dead-lettered. */
function applyFailure(
  tx: StoreTransaction,
  outbox: OutboxIndex,
  entry: OutboxEntry,
  failure: PushFailedEntry,
  ctx: PushAnswerContext,
): boolean {
  const attempts = entry.attempts + 1;
  if (failure.retryable && attempts < ctx.changeRetry.maxAttempts) {
    const delay = backoffDelayMs(attempts, ctx.changeRetry, ctx.random);
    outbox.put({
      ...entry,
      attempts,
      batchId: null,
      lastError: failure.error,
      nextAttemptAt: new Date(ctx.now.getTime() + delay).toISOString(),
    });
    return false;
  }
  outbox.remove(entry.requestId);
  tx.putDeadLetter({
    entry: { ...entry, attempts, batchId: null, lastError: failure.error },
    error: failure.error,
    deadAt: ctx.now.toISOString(),
  });
  return true;
}

export function deadLetter(
  tx: StoreTransaction,
  entry: OutboxEntry,
  error: ErrorObject,
  now: Date,
): void {
  tx.removeOutbox(entry.requestId);
  tx.putDeadLetter({ entry, error, deadAt: now.toISOString() });
}
