import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { EntityConflictConfigMap } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import {
  claimOperation,
  completeOperation,
  failOperation,
  findCompletedOperation,
  heartbeatOperation,
  requestFingerprint,
  type StoredAnswer,
} from '../sync-operations.ts';
import { acquireSyncLock, heartbeatSyncLock, recordDeviceSync, releaseSyncLock, type HeldSyncLock } from '../sync-lock.ts';
import { previewChanges } from './preview-changes.ts';
import { processChanges, type ProcessOptions } from './process-changes.ts';
import type { MutationTrace, PushResult, SyncChangeInput } from './push-types.ts';

export interface PushRequestBody {
  readonly syncOperationId: string;
  readonly deviceId: string;
  readonly lastSyncCursor?: string | null | undefined;
  readonly changes: readonly SyncChangeInput[];
}

export interface PushAnswer {
  readonly httpStatus: 200 | 207;
  readonly body: PushResult;
  /** True when this is a stored answer of a completed operation; nothing was applied. */
  readonly replayed: boolean;
  /** Per-change traces (absent for replays), for capture. */
  readonly mutations: readonly MutationTrace[];
  readonly entityTypesChanged: ReadonlySet<string>;
}

export interface PushServiceOptions {
  readonly db: Kysely<DB>;
  readonly conflictConfig: EntityConflictConfigMap;
  readonly catalogUserId: string;
  readonly lockStaleMs: number;
  readonly beforeCommit?: ProcessOptions['beforeCommit'];
  /** Called after a push's writes and its outbox events committed (wakes the outbox processor). */
  readonly onCommitted?: (() => void) | undefined;
}

/** The status of a push answer: 207 as soon as one change failed or conflicted. */
export function pushStatus(result: PushResult): 200 | 207 {
  return result.failed.length === 0 && result.conflicts.length === 0 ? 200 : 207;
}

/**
 * The write path. A push is applied exactly once: a completed syncOperationId is answered
 * from its stored result; one push at a time per user+device (409 otherwise); each change
 * applied at most once per requestId; a crashed worker's operation and lock are taken over
 * once stale.
 */
export class PushService {
  constructor(private readonly opts: PushServiceOptions) {}

  async push(userId: string, body: PushRequestBody, kind = 'push'): Promise<PushAnswer> {
    const { db } = this.opts;
    const fingerprint = requestFingerprint(kind, body);
    const stored = await findCompletedOperation(db, userId, body.syncOperationId, fingerprint);
    if (stored) {
      await recordDeviceSync(db, userId, body.deviceId);
      return replay(stored);
    }

    return this.withDeviceLock(userId, body.deviceId, body.syncOperationId, async (lock) => {
      const claim = await claimOperation(db, {
        userId,
        syncOperationId: body.syncOperationId,
        deviceId: body.deviceId,
        fingerprint,
        fencingToken: lock.fencingToken,
      });
      if (claim.kind === 'completed') return replay(claim.answer);
      try {
        const processed = await processChanges(
          {
            db,
            conflictConfig: this.opts.conflictConfig,
            catalogUserId: this.opts.catalogUserId,
            lock,
            syncOperationId: body.syncOperationId,
            beforeCommit: this.opts.beforeCommit,
          },
          body.changes,
        );
        const httpStatus = pushStatus(processed.result);
        await completeOperation(
          db,
          userId,
          body.syncOperationId,
          { httpStatus, body: processed.result },
          {
            userId,
            deviceId: body.deviceId,
            syncOperationId: body.syncOperationId,
            successful: processed.result.successful.length,
            failed: processed.result.failed.length,
            conflicts: processed.result.conflicts.length,
          },
        );
        this.opts.onCommitted?.();
        return {
          httpStatus,
          body: processed.result,
          replayed: false,
          mutations: processed.mutations,
          entityTypesChanged: processed.entityTypesChanged,
        };
      } catch (err) {
        await failOperation(db, userId, body.syncOperationId, lock.fencingToken).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * What `changes` would do if `userId`+`deviceId` pushed them now (per-change traces in the
   * order sent), decided like a push against the current rows; writes nothing, takes no lock.
   */
  async preview(userId: string, deviceId: string, changes: readonly SyncChangeInput[]): Promise<MutationTrace[]> {
    const { db, conflictConfig, catalogUserId } = this.opts;
    return previewChanges({ db, conflictConfig, catalogUserId, userId, deviceId }, changes);
  }

  /**
   * Runs `work` holding the user+device lock, heartbeating it (and the operation) so a
   * long push is not mistaken for a crashed one, and releasing it afterwards.
   */
  async withDeviceLock<T>(
    userId: string,
    deviceId: string,
    syncOperationId: string | undefined,
    work: (lock: HeldSyncLock) => Promise<T>,
  ): Promise<T> {
    const { db, lockStaleMs } = this.opts;
    const lock = await acquireSyncLock(db, userId, deviceId, randomUUID(), lockStaleMs);
    const beat = setInterval(() => {
      void heartbeatSyncLock(db, lock, lockStaleMs).catch(() => undefined);
      if (syncOperationId !== undefined) void heartbeatOperation(db, userId, syncOperationId).catch(() => undefined);
    }, Math.max(250, Math.floor(lockStaleMs / 3)));
    beat.unref();
    let ok = false;
    try {
      const out = await work(lock);
      ok = true;
      return out;
    } finally {
      clearInterval(beat);
      await releaseSyncLock(db, lock, ok).catch(() => undefined);
    }
  }
}

function replay(stored: StoredAnswer): PushAnswer {
  return {
    httpStatus: stored.httpStatus === 207 ? 207 : 200,
    body: stored.body as PushResult,
    replayed: true,
    mutations: [],
    entityTypesChanged: new Set(),
  };
}

