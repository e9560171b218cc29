import type { EntityType } from '../entities/entity-types.ts';
import { deepMergeJson } from './deep-merge.ts';
import { isServerKeptField, mergeEntityInternal, type MergeEntityInput } from './entity-merger.ts';

/** An entity-specific merge; it refines the generic merge, never replaces its invariants. */
export type CustomMerge = (input: MergeEntityInput) => Record<string, unknown>;

/** Fields of journal entries that are deep-merged objects rather than whole values. */
const JOURNAL_DEEP_MERGED_FIELDS = ['reactions'] as const;

/**
 * journal_entries: the generic merge, then `reactions` deep-merged (keys of both sides,
 * recursively; the client's value where both hold a non-object). A field policy configured
 * for `reactions` (e.g. by SYNC_CONFIG) takes precedence over the deep merge.
 */
export function mergeJournalEntry(input: MergeEntityInput): Record<string, unknown> {
  const merged = mergeEntityInternal(input);
  for (const field of JOURNAL_DEEP_MERGED_FIELDS) {
    if (input.local[field] === undefined) continue;
    if (input.config.fieldPolicies[field] !== undefined) continue;
    if (isServerKeptField(input.entityType, input.config, field)) continue;
    merged[field] = deepMergeJson(input.server[field], input.local[field]);
  }
  return merged;
}

/**
 * Custom merges keyed by entity type. An entity has one exactly when its config says
 * `requiresCustomMerge`. The other entities' needs (server-derived aggregates, a
 * server-authoritative flag, LOCAL_WINS fields) are fully expressed by their config.
 */
export const CUSTOM_MERGES: Readonly<Partial<Record<EntityType, CustomMerge>>> = Object.freeze({
  journal_entries: mergeJournalEntry,
});

/**
 * Merges a client patch into the stored state the way the entity's config asks: its
 * custom merge when it requires one, else the generic merge. Pure.
 */
export function mergeEntity(input: MergeEntityInput): Record<string, unknown> {
  const custom = input.config.requiresCustomMerge ? CUSTOM_MERGES[input.entityType] : undefined;
  return (custom ?? mergeEntityInternal)(input);
}
