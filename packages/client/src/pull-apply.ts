import type { PulledChange } from '@sync-engine/shared';
import { rowFromServerState } from './entity-row.ts';
import { OutboxIndex, overlayPending } from './outbox.ts';
import type { StoreTransaction } from './store/local-store.ts';

export const CURSOR_META_KEY = 'cursor';

/**
 * Applies one pull page: each change carries the entity's full latest state (a DELETE its
 * tombstone), which replaces the local row unless the row is already at a later version
 * (the device's own push answer can be ahead of the feed). Changes the device still has
 * queued for the entity are re-applied on top, keeping their base version, so the app keeps
 * seeing its edits and the server still judges them against what they were made on.
 * Returns how many rows changed.
 */
export function applyPulledChanges(tx: StoreTransaction, changes: readonly PulledChange[]): number {
  const outbox = new OutboxIndex(tx);
  let changed = 0;
  for (const change of changes) {
    const base = rowFromServerState(
      change.entityType,
      { ...change.data, id: change.entityId },
      change.version,
    );
    const current = tx.getRow(change.entityType, base.id);
    if (current !== undefined && current.version > base.version) continue;
    tx.putRow(
      change.entityType,
      overlayPending(base, outbox.pendingFor(change.entityType, base.id)),
    );
    changed++;
  }
  return changed;
}
