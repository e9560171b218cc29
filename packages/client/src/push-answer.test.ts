import { describe, expect, it } from 'vitest';
import type { PushResult } from '@sync-engine/shared';
import { enqueueChange, type NewOutboxEntry } from './outbox.ts';
import { PENDING_BATCH_META_KEY, applyPushAnswer, type PushAnswerContext } from './push-answer.ts';
import { createMemoryStore } from './store/memory-store.ts';
import type { PendingBatch, StoreTransaction } from './store/local-store.ts';

const ctx: PushAnswerContext = {
  now: new Date('2024-05-01T12:00:00Z'),
  random: () => 0.5,
  changeRetry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000 },
};

const P = '11111111-1111-4111-8111-111111111111';
const S = '22222222-2222-4222-8222-222222222222';
const G = '33333333-3333-4333-8333-333333333333';

function answer(partial: Partial<PushResult>): PushResult {
  return {
    syncOperationId: 'op-1',
    successful: [],
    failed: [],
    conflicts: [],
    idMappings: [],
    ...partial,
  };
}

type ConflictEntry = PushResult['conflicts'][number];

/** The answer's conflict for change `r1`, an UPDATE of goal G made on version 2. */
function goalConflict(
  entry: Pick<
    ConflictEntry,
    'strategy' | 'outcome' | 'serverVersion' | 'serverState' | 'resolvedState'
  >,
): ConflictEntry {
  return {
    conflictId: 'c1',
    requestId: 'r1',
    clientId: G,
    entityType: 'goals',
    entityId: G,
    serverId: G,
    clientVersion: 2,
    ...entry,
  };
}

/** Queues the changes and freezes them as batch `op-1`, as sync() does before sending. */
function inFlight(tx: StoreTransaction, changes: NewOutboxEntry[]): PendingBatch {
  for (const c of changes) tx.putOutbox({ ...enqueueChange(tx, c), batchId: 'op-1' });
  const batch: PendingBatch = { syncOperationId: 'op-1', lastSyncCursor: null, changes: [] };
  tx.setMeta(PENDING_BATCH_META_KEY, JSON.stringify(batch));
  return batch;
}

const base = { changeData: {}, syncVersion: 0, updatedAt: '2024-05-01T11:00:00.000Z' } as const;
/** Change `r1`: an UPDATE of goal G made on `syncVersion` (the version the app last saw). */
const goalUpdate = (changeData: Record<string, unknown>, syncVersion = 2): NewOutboxEntry => ({
  ...base,
  requestId: 'r1',
  entityType: 'goals',
  entityId: G,
  changeType: 'UPDATE',
  changeData,
  syncVersion,
});
const goalRow = (id: string, version: number, data: Record<string, unknown>) => ({
  id,
  version,
  deletedAt: null,
  updatedAt: null,
  data,
});

async function inStore<T>(fn: (tx: StoreTransaction) => T): Promise<T> {
  return createMemoryStore().transaction(fn);
}

describe('applyPushAnswer', () => {
  it('maps client ids to server ids across rows, foreign keys and queued changes, then drops the applied changes', async () => {
    const state = await inStore((tx) => {
      tx.putRow('products', goalRow('local-p', 0, { name: 'P' }));
      tx.putRow('sessions', goalRow('local-s', 0, { productId: 'local-p', deviceId: null }));
      const batch = inFlight(tx, [
        {
          ...base,
          requestId: 'r1',
          entityType: 'products',
          entityId: 'local-p',
          changeType: 'CREATE',
          changeData: { name: 'P' },
        },
        {
          ...base,
          requestId: 'r2',
          entityType: 'sessions',
          entityId: 'local-s',
          changeType: 'CREATE',
          changeData: { productId: 'local-p' },
        },
      ]);
      // Made while the push was in flight: based on version 0 of the new session.
      enqueueChange(tx, {
        ...base,
        requestId: 'r3',
        entityType: 'sessions',
        entityId: 'local-s',
        changeType: 'UPDATE',
        changeData: { notes: 'later' },
      });
      const summary = applyPushAnswer(
        tx,
        batch,
        answer({
          successful: [
            {
              requestId: 'r1',
              clientId: 'local-p',
              entityType: 'products',
              entityId: 'local-p',
              serverId: P,
              changeType: 'CREATE',
              version: 1,
              outcome: 'APPLIED',
            },
            {
              requestId: 'r2',
              clientId: 'local-s',
              entityType: 'sessions',
              entityId: 'local-s',
              serverId: S,
              changeType: 'CREATE',
              version: 1,
              outcome: 'APPLIED',
            },
          ],
          idMappings: [
            { entityType: 'products', clientId: 'local-p', serverId: P },
            { entityType: 'sessions', clientId: 'local-s', serverId: S },
          ],
        }),
        ctx,
      );
      return {
        summary,
        products: tx.listRows('products'),
        sessions: tx.listRows('sessions'),
        outbox: tx.listOutbox(),
        mapped: tx.getIdMapping('sessions', 'local-s'),
        pending: tx.getMeta(PENDING_BATCH_META_KEY),
      };
    });
    expect(state.summary).toMatchObject({ applied: 2, conflicts: 0, retrying: 0, deadLettered: 0 });
    expect(state.products).toEqual([goalRow(P, 1, { name: 'P' })]);
    expect(state.sessions).toEqual([goalRow(S, 1, { productId: P, deviceId: null })]);
    expect(state.mapped).toBe(S);
    // The later UPDATE now names the server id and is based on the version the CREATE made.
    expect(state.outbox).toMatchObject([
      { requestId: 'r3', entityId: S, syncVersion: 1, batchId: null },
    ]);
    expect(state.pending).toBeUndefined();
  });

  it('adopts a resolved state with the queued edits on top', async () => {
    const row = await inStore((tx) => {
      tx.putRow(
        'goals',
        goalRow(G, 2, { name: 'mine', currentValue: 5, targetValue: 10, status: 'ACTIVE' }),
      );
      const batch = inFlight(tx, [goalUpdate({ name: 'mine', currentValue: 5 })]);
      enqueueChange(tx, {
        ...base,
        requestId: 'r2',
        entityType: 'goals',
        entityId: G,
        changeType: 'UPDATE',
        changeData: { status: 'ACHIEVED' },
        syncVersion: 2,
      });
      const resolved = {
        id: G,
        version: 4,
        name: 'mine',
        currentValue: 8,
        targetValue: 10,
        status: 'ACTIVE',
        deletedAt: null,
      };
      applyPushAnswer(
        tx,
        batch,
        answer({
          conflicts: [
            goalConflict({
              strategy: 'MERGE',
              outcome: 'ADOPT_SERVER',
              serverVersion: 3,
              serverState: { ...resolved, version: 3, name: 'theirs' },
              resolvedState: resolved,
            }),
          ],
        }),
        ctx,
      );
      return { row: tx.getRow('goals', G), outbox: tx.listOutbox() };
    });
    expect(row.row).toMatchObject({
      version: 4,
      data: { name: 'mine', currentValue: 8, status: 'ACHIEVED' },
    });
    // Still based on version 2: the server judges it against what it was made on.
    expect(row.outbox).toMatchObject([{ requestId: 'r2', syncVersion: 2 }]);
  });

  it('keeps a MANUAL_REQUIRED conflict for the app and shows the server state', async () => {
    const state = await inStore((tx) => {
      tx.putRow('goals', goalRow(G, 2, { name: 'mine' }));
      const batch = inFlight(tx, [goalUpdate({ name: 'mine' })]);
      const summary = applyPushAnswer(
        tx,
        batch,
        answer({
          conflicts: [
            goalConflict({
              strategy: 'MANUAL',
              outcome: 'MANUAL_REQUIRED',
              serverVersion: 3,
              serverState: { id: G, version: 3, name: 'theirs' },
              resolvedState: null,
            }),
          ],
        }),
        ctx,
      );
      return {
        summary,
        conflicts: tx.listConflicts(),
        row: tx.getRow('goals', G),
        outbox: tx.listOutbox(),
      };
    });
    expect(state.summary.manualConflicts).toBe(1);
    expect(state.conflicts).toMatchObject([
      { conflictId: 'c1', entityId: G, localChange: { name: 'mine' }, serverVersion: 3 },
    ]);
    expect(state.row).toMatchObject({ version: 3, data: { name: 'theirs' } });
    expect(state.outbox).toEqual([]);
  });

  it('queues a REBASE_AND_RETRY change again, based on the server version', async () => {
    const outbox = await inStore((tx) => {
      tx.putRow('goals', goalRow(G, 2, { name: 'mine' }));
      const batch = inFlight(tx, [goalUpdate({ name: 'mine' })]);
      applyPushAnswer(
        tx,
        batch,
        answer({
          conflicts: [
            goalConflict({
              strategy: 'MERGE',
              outcome: 'REBASE_AND_RETRY',
              serverVersion: 5,
              serverState: { id: G, version: 5, name: 'theirs' },
              resolvedState: null,
            }),
          ],
        }),
        ctx,
      );
      return { outbox: tx.listOutbox(), row: tx.getRow('goals', G) };
    });
    expect(outbox.outbox).toMatchObject([
      { requestId: 'r1', syncVersion: 5, batchId: null, changeData: { name: 'mine' } },
    ]);
    expect(outbox.row).toMatchObject({ version: 5, data: { name: 'mine' } });
  });

  it('backs off a retryable failure, dead-letters a final one and unfreezes what the answer left out', async () => {
    const state = await inStore((tx) => {
      const batch = inFlight(tx, [
        {
          ...base,
          requestId: 'r1',
          entityType: 'purchases',
          entityId: 'local-b',
          changeType: 'CREATE',
          changeData: { productId: P, quantityPurchased: 1 },
        },
        {
          ...base,
          requestId: 'r2',
          entityType: 'goals',
          entityId: G,
          changeType: 'UPDATE',
          changeData: { name: 'x' },
        },
        {
          ...base,
          requestId: 'r3',
          entityType: 'goals',
          entityId: 'g-unanswered',
          changeType: 'CREATE',
          changeData: { name: 'y' },
        },
      ]);
      const error = (code: string) => ({ code, message: code });
      const summary = applyPushAnswer(
        tx,
        batch,
        answer({
          failed: [
            {
              requestId: 'r1',
              clientId: 'local-b',
              entityType: 'purchases',
              entityId: 'local-b',
              retryable: true,
              error: error('FK_NOT_FOUND'),
            },
            {
              requestId: 'r2',
              clientId: G,
              entityType: 'goals',
              entityId: G,
              retryable: false,
              error: error('NOT_FOUND'),
            },
          ],
        }),
        ctx,
      );
      return { summary, outbox: tx.listOutbox(), dead: tx.listDeadLetters() };
    });
    expect(state.summary).toMatchObject({
      retrying: 1,
      deadLettered: 1,
      retryingRequestIds: ['r1'],
    });
    expect(state.outbox).toMatchObject([
      // backoff: attempt 1 → random 0.5 × 1000 ms
      {
        requestId: 'r1',
        attempts: 1,
        batchId: null,
        nextAttemptAt: '2024-05-01T12:00:00.500Z',
        lastError: { code: 'FK_NOT_FOUND' },
      },
      { requestId: 'r3', attempts: 0, batchId: null },
    ]);
    expect(state.dead).toMatchObject([
      {
        entry: { requestId: 'r2' },
        error: { code: 'NOT_FOUND' },
        deadAt: '2024-05-01T12:00:00.000Z',
      },
    ]);
  });

  it('dead-letters a retryable change once its attempts are used up', async () => {
    const dead = await inStore((tx) => {
      const batch = inFlight(tx, [goalUpdate({ name: 'x' }, 0)]);
      tx.putOutbox({ ...tx.listOutbox()[0]!, attempts: 2 });
      applyPushAnswer(
        tx,
        batch,
        answer({
          failed: [
            {
              requestId: 'r1',
              clientId: G,
              entityType: 'goals',
              entityId: G,
              retryable: true,
              error: { code: 'INTERNAL', message: 'x' },
            },
          ],
        }),
        ctx,
      );
      return tx.listDeadLetters();
    });
    expect(dead).toMatchObject([{ entry: { requestId: 'r1', attempts: 3 } }]);
  });
});
