import type { Kysely } from 'kysely';
import type { EntityConflictConfigMap } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import { decideBatch } from './batch-decider.ts';
import { readBatchSnapshot } from './batch-reader.ts';
import { decideContextFactory, syncOrdered } from './process-changes.ts';
import type { MutationTrace, SyncChangeInput } from './push-types.ts';

export interface PreviewOptions {
  readonly db: Kysely<DB>;
  readonly conflictConfig: EntityConflictConfigMap;
  readonly catalogUserId: string;
  readonly userId: string;
  readonly deviceId: string;
}

/**
 * What `changes` would do if `userId`+`deviceId` pushed them now, decided by the same pure
 * core as a push against the rows a push would read, and written nowhere: the read happens
 * in a transaction that is always rolled back (its row locks only keep the rows still while
 * deciding). All changes are decided over one snapshot, so a later change sees the effect of
 * an earlier one as it would across a push's batches. Traces come back in the order sent.
 */
export async function previewChanges(
  opts: PreviewOptions,
  changes: readonly SyncChangeInput[],
): Promise<MutationTrace[]> {
  const ordered = syncOrdered(changes);
  const context = decideContextFactory(opts);
  const trx = await opts.db.startTransaction().execute();
  try {
    const snapshot = await readBatchSnapshot(trx, opts.userId, opts.deviceId, changes);
    const outcome = decideBatch(context(), snapshot, ordered);
    return [...outcome.mutations].sort((a, b) => a.index - b.index);
  } finally {
    await trx.rollback().execute();
  }
}
