import {
  isServerKeptField,
  jsonEquals,
  mergeEntity,
  parseChangeData,
  type ClientResolutionStrategy,
  type EntityConflictConfig,
  type EntityType,
} from '@sync-engine/shared';
import type { EntityState } from '../entity-state.ts';
import type { ChangeError } from '../push/push-types.ts';

export interface ResolutionInput {
  readonly entityType: EntityType;
  readonly strategy: ClientResolutionStrategy;
  /** What the client sent as `mergedData` (undefined when absent). */
  readonly mergedData: unknown;
  /** The conflict's client data: the stale UPDATE's patch (FKs already server ids). */
  readonly clientData: Readonly<Record<string, unknown>>;
  readonly clientVersion: number;
  /** The entity as it is now (locked). */
  readonly current: EntityState;
  readonly config: EntityConflictConfig;
}

export type ResolutionPlan =
  | { readonly ok: true; readonly patch: Record<string, unknown> }
  | { readonly ok: false; readonly error: ChangeError };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The data a resolution proposes, before validation: REMOTE_WINS nothing; LOCAL_WINS the
 * conflict's client data; MERGE and MANUAL the client's `mergedData`; MERGE without it the
 * configured merge of the client data into the current state. Also what the entity locks
 * are taken for (its FK values), so the rows it names are locked in sync order.
 */
export function proposedData(input: Omit<ResolutionInput, 'current' | 'config'>): unknown {
  switch (input.strategy) {
    case 'REMOTE_WINS':
      return {};
    case 'LOCAL_WINS':
      return input.clientData;
    case 'MERGE':
      return input.mergedData === undefined ? input.clientData : input.mergedData;
    case 'MANUAL':
      return input.mergedData;
  }
}

/**
 * Decides what a resolution writes over the current state, as a patch (not yet FK-resolved):
 * only fields whose value changes. Invariants: REMOTE_WINS never changes anything; the data
 * is validated with the entity's UPDATE schema (server-managed and derived fields are
 * dropped, unknown fields are an error) and a failure names the fields under `mergedData`;
 * fields the conflict config keeps on the server (server-derived, e.g. a purchase's
 * productId) keep their stored value whatever the strategy; MANUAL requires `mergedData`.
 * Pure.
 */
export function planResolution(input: ResolutionInput): ResolutionPlan {
  const { entityType, strategy, current, config } = input;
  if (strategy === 'REMOTE_WINS') return { ok: true, patch: {} };
  if (strategy === 'MANUAL' && input.mergedData === undefined) {
    return {
      ok: false,
      error: {
        code: 'VALIDATION_ERROR',
        message: 'MANUAL needs mergedData: the state to apply',
        details: [{ field: 'mergedData', message: 'required for MANUAL' }],
      },
    };
  }
  const fromClient = input.mergedData !== undefined && strategy !== 'LOCAL_WINS';
  let data: unknown = proposedData(input);
  if (strategy === 'MERGE' && input.mergedData === undefined) {
    // The configured merge: field policies, custom merges and server-kept fields as a push
    // would apply them; a MANUAL field keeps its stored value (a person decides it).
    // Only what the merge changes is validated: a stored value is never the client's fault.
    data = changedFields(
      current,
      mergeEntity({
        entityType,
        config,
        local: input.clientData,
        server: current,
        localVersion: input.clientVersion,
        serverVersion: current.version,
      }),
    );
  }
  if (!isPlainObject(data)) {
    return {
      ok: false,
      error: {
        code: 'VALIDATION_ERROR',
        message: 'mergedData must be an object of entity fields',
        details: [{ field: 'mergedData', message: 'must be an object' }],
      },
    };
  }
  const parsed = parseChangeData(entityType, 'UPDATE', data);
  if (!parsed.ok) {
    const root = fromClient ? 'mergedData' : 'clientData';
    return {
      ok: false,
      error: {
        code: 'VALIDATION_ERROR',
        message: `${root} is invalid for ${entityType}`,
        details: parsed.details.map((d) => ({
          field: d.field.replace(/^changeData/, root),
          message: d.message,
        })),
      },
    };
  }
  const patch: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(parsed.data)) {
    if (value === undefined || isServerKeptField(entityType, config, field)) continue;
    patch[field] = value;
  }
  return { ok: true, patch };
}

/** The fields of `patch` whose value differs from `current`; empty → nothing to write. */
export function changedFields(
  current: EntityState,
  patch: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (!jsonEquals(value, current[field])) changed[field] = value;
  }
  return changed;
}
