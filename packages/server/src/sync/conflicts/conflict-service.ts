import type { Kysely } from 'kysely';
import type {
  ConflictListQuery,
  ConflictListResult,
  ConflictResolutionInput,
  EntityConflictConfigMap,
  ResolveConflictsResult,
} from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import { retryTransaction } from '../../db/transaction-retry.ts';
import { listConflicts } from './conflict-list.ts';
import {
  createConflictPageCursorCodec,
  type ConflictPageCursorCodec,
} from './conflict-page-cursor.ts';
import { resolveConflictInTransaction, type ResolveOutcome } from './resolve-conflict-tx.ts';

export interface ConflictServiceOptions {
  readonly db: Kysely<DB>;
  readonly conflictConfig: EntityConflictConfigMap;
  readonly catalogUserId: string;
  /** Secret the list cursors are signed with. */
  readonly cursorKey: string;
  /** Called after a resolution committed (wakes the outbox processor). */
  readonly onCommitted?: (() => void) | undefined;
  readonly log?: { error(obj: object, msg: string): void } | undefined;
}

export interface ResolveAnswer {
  readonly httpStatus: 200 | 207;
  readonly body: ResolveConflictsResult;
}

const MAX_TX_ATTEMPTS = 4;

/**
 * The conflict lifecycle after a push recorded a conflict: listing (user-scoped, keyset
 * pages) and batch resolution (the seed's resolveConflictsBatch). Each resolution runs in
 * its own transaction, so one failing never undoes another; the answer lists each one in
 * `resolved` or `failed`, in request order, and is 207 as soon as one failed.
 */
export class ConflictService {
  private readonly cursors: ConflictPageCursorCodec;

  constructor(private readonly opts: ConflictServiceOptions) {
    this.cursors = createConflictPageCursorCodec(opts.cursorKey);
  }

  list(userId: string, query: ConflictListQuery): Promise<ConflictListResult> {
    return listConflicts(this.opts.db, this.cursors, userId, query);
  }

  async resolve(
    userId: string,
    resolutions: readonly ConflictResolutionInput[],
  ): Promise<ResolveAnswer> {
    const body: ResolveConflictsResult = { resolved: [], failed: [] };
    let committed = false;
    for (const input of resolutions) {
      const outcome = await this.resolveOne(userId, input);
      if (outcome.ok) {
        body.resolved.push(outcome.resolved);
        committed = true;
      } else {
        body.failed.push({ conflictId: input.conflictId, error: outcome.error });
      }
    }
    if (committed) this.opts.onCommitted?.();
    return { httpStatus: body.failed.length === 0 ? 200 : 207, body };
  }

  private async resolveOne(
    userId: string,
    input: ConflictResolutionInput,
  ): Promise<ResolveOutcome> {
    try {
      // A failed outcome writes nothing; rolling back is the same as committing nothing.
      return await retryTransaction(
        () =>
          this.opts.db.transaction().execute((trx) =>
            resolveConflictInTransaction(
              trx,
              {
                userId,
                conflictConfig: this.opts.conflictConfig,
                catalogUserId: this.opts.catalogUserId,
                now: new Date().toISOString(),
              },
              input,
            ),
          ),
        { maxAttempts: MAX_TX_ATTEMPTS },
      );
    } catch (err) {
      this.opts.log?.error({ err, conflictId: input.conflictId }, 'conflict resolution failed');
      return {
        ok: false,
        error: {
          code: 'INTERNAL',
          message: 'The server could not resolve this conflict; try again',
        },
      };
    }
  }
}
