import { OutboxIndex, referencedKeys } from './outbox.ts';
import type { OutboxEntry, StoreTransaction } from './store/local-store.ts';

export interface BatchSelectionOptions {
  readonly maxChanges: number;
  readonly now: Date;
  /** requestIds not to send again in this sync (they failed once already). */
  readonly exclude?: ReadonlySet<string>;
}

/**
 * The next changes to push, in outbox order, at most `maxChanges`. A change waits (with
 * every later change of its entity, so an entity's edits never overtake each other) when:
 * it is backing off after a retryable failure, or one of its foreign keys names an entity
 * whose CREATE is still queued but not in this batch. The server would otherwise store such
 * an optional key as null (or fail an UPDATE of an entity it does not know yet), while the
 * device keeps the reference: the two would never converge.
 */
export function selectBatch(tx: StoreTransaction, options: BatchSelectionOptions): OutboxEntry[] {
  const outbox = new OutboxIndex(tx);
  const entries = outbox.all();
  const key = (e: OutboxEntry) => outbox.keyOf(e);
  const queuedCreates = new Set(entries.filter((e) => e.changeType === 'CREATE').map(key));
  const selectedCreates = new Set<string>();
  const waiting = new Set<string>();
  const batch: OutboxEntry[] = [];
  for (const entry of entries) {
    if (batch.length >= options.maxChanges) break;
    const own = key(entry);
    const due =
      entry.nextAttemptAt === null || Date.parse(entry.nextAttemptAt) <= options.now.getTime();
    const blocked =
      !due ||
      entry.batchId !== null ||
      options.exclude?.has(entry.requestId) === true ||
      waiting.has(own) ||
      (entry.changeType !== 'CREATE' && queuedCreates.has(own) && !selectedCreates.has(own)) ||
      referencedKeys(outbox, entry).some((k) => queuedCreates.has(k) && !selectedCreates.has(k));
    if (blocked) {
      waiting.add(own);
      continue;
    }
    batch.push(entry);
    if (entry.changeType === 'CREATE') selectedCreates.add(own);
  }
  return batch;
}
