import { mergeEntity } from './custom-merges.ts';
import { isServerKeptField, policyForField, type MergeEntityInput } from './entity-merger.ts';
import { jsonEquals } from './json-equality.ts';
import {
  CONFLICT_RESOLUTION_OUTCOME,
  CONFLICT_STRATEGY,
  FIELD_POLICY,
  type ConflictResolutionOutcome,
  type ConflictStrategy,
} from './strategies.ts';

/** How one conflict was decided. */
export interface ConflictResolution {
  /** The strategy that decided it (the entity's, or SERVER_WINS for a tombstone). */
  readonly strategy: ConflictStrategy;
  readonly outcome: ConflictResolutionOutcome;
  /** The state the client adopts; null when nothing is decided yet (MANUAL). */
  readonly resolvedState: Record<string, unknown> | null;
  /** Fields whose resolved value differs from the stored one; empty → nothing to apply. */
  readonly changedFields: readonly string[];
}

function changedFields(
  server: Readonly<Record<string, unknown>>,
  resolved: Readonly<Record<string, unknown>>,
) {
  const names = new Set([...Object.keys(server), ...Object.keys(resolved)]);
  return [...names].filter((name) => !jsonEquals(server[name], resolved[name]));
}

/**
 * The fields of a conflict a person has to decide: patched fields whose policy is MANUAL
 * (by SYNC_CONFIG) and whose client value differs from the stored one. Fields the server
 * always keeps never count, and neither does a MANUAL field the client left unchanged.
 */
export function manualFieldsOf(input: MergeEntityInput): string[] {
  const { entityType, config, local, server } = input;
  return Object.entries(local)
    .filter(
      ([field, value]) =>
        value !== undefined &&
        policyForField(config, field) === FIELD_POLICY.MANUAL &&
        !isServerKeptField(entityType, config, field) &&
        !jsonEquals(value, server[field]),
    )
    .map(([field]) => field);
}

/**
 * Decides a conflict (an UPDATE whose base version is older than the stored one) by the
 * entity's config. Conflict-free entities → SKIPPED, the stored state unchanged. A
 * tombstoned stored state → SERVER_WINS, ADOPT_SERVER with the tombstone (DELETE always
 * wins). MANUAL, as the entity's strategy or as the policy of a field the client changed
 * (`manualFieldsOf`) → MANUAL_REQUIRED with no resolved state (the conflict stays pending,
 * nothing is applied, not even the other fields). Every other strategy → ADOPT_SERVER with
 * the merged state. Pure.
 */
export function resolveConflict(input: MergeEntityInput): ConflictResolution {
  const { config, server } = input;
  if (config.conflictFree) {
    return {
      strategy: config.defaultStrategy,
      outcome: CONFLICT_RESOLUTION_OUTCOME.SKIPPED,
      resolvedState: { ...server },
      changedFields: [],
    };
  }
  if (server.deletedAt !== null && server.deletedAt !== undefined) {
    return {
      strategy: CONFLICT_STRATEGY.SERVER_WINS,
      outcome: CONFLICT_RESOLUTION_OUTCOME.ADOPT_SERVER,
      resolvedState: { ...server },
      changedFields: [],
    };
  }
  if (config.defaultStrategy === CONFLICT_STRATEGY.MANUAL || manualFieldsOf(input).length > 0) {
    return {
      strategy: CONFLICT_STRATEGY.MANUAL,
      outcome: CONFLICT_RESOLUTION_OUTCOME.MANUAL_REQUIRED,
      resolvedState: null,
      changedFields: [],
    };
  }
  const resolvedState = mergeEntity(input);
  return {
    strategy: config.defaultStrategy,
    outcome: CONFLICT_RESOLUTION_OUTCOME.ADOPT_SERVER,
    resolvedState,
    changedFields: changedFields(server, resolvedState),
  };
}
