/**
 * Entity-level conflict strategies. The strategy decides a conflict as a whole: MANUAL
 * stores it as pending and applies nothing; every other strategy computes a merged state,
 * and for a field without its own policy the strategy names the fallback (see
 * `fallbackPolicyFor`).
 */
export const CONFLICT_STRATEGY = {
  MERGE: 'MERGE',
  SERVER_WINS: 'SERVER_WINS',
  LOCAL_WINS: 'LOCAL_WINS',
  LAST_WRITE_WINS: 'LAST_WRITE_WINS',
  MANUAL: 'MANUAL',
} as const;

export type ConflictStrategy = (typeof CONFLICT_STRATEGY)[keyof typeof CONFLICT_STRATEGY];

/** Every conflict strategy, in declaration order (for schemas and exhaustive tests). */
export const CONFLICT_STRATEGIES = Object.freeze(Object.values(CONFLICT_STRATEGY)) as readonly [
  ConflictStrategy,
  ...ConflictStrategy[],
];

/**
 * Field-level policies: how one field of two conflicting states is resolved (CONTRACT §3).
 * MANUAL (available to any field by config) decides nothing: a conflict whose client value
 * of such a field differs from the stored one is stored as pending (MANUAL_REQUIRED).
 */
export const FIELD_POLICY = {
  LOCAL_WINS: 'LOCAL_WINS',
  SERVER_WINS: 'SERVER_WINS',
  LAST_WRITE_WINS: 'LAST_WRITE_WINS',
  MERGE_ARRAYS: 'MERGE_ARRAYS',
  MONOTONIC: 'MONOTONIC',
  MAX_VALUE: 'MAX_VALUE',
  MIN_VALUE: 'MIN_VALUE',
  SERVER_IF_LOCAL_NULL: 'SERVER_IF_LOCAL_NULL',
  LOCAL_IF_SERVER_NULL: 'LOCAL_IF_SERVER_NULL',
  MANUAL: 'MANUAL',
} as const;

export type FieldPolicy = (typeof FIELD_POLICY)[keyof typeof FIELD_POLICY];

/** Every field policy, in declaration order (for schemas and exhaustive tests). */
export const FIELD_POLICIES = Object.freeze(Object.values(FIELD_POLICY)) as readonly [
  FieldPolicy,
  ...FieldPolicy[],
];

/**
 * What the client does with a decided conflict (the seed's ConflictResolutionOutcome):
 * ADOPT_SERVER — take `resolvedState`; REBASE_AND_RETRY — re-apply on the server state and
 * push again (custom handlers only); MANUAL_REQUIRED — pending until a user resolves it;
 * SKIPPED — nothing happened (conflict-free entities).
 */
export const CONFLICT_RESOLUTION_OUTCOME = {
  ADOPT_SERVER: 'ADOPT_SERVER',
  REBASE_AND_RETRY: 'REBASE_AND_RETRY',
  MANUAL_REQUIRED: 'MANUAL_REQUIRED',
  SKIPPED: 'SKIPPED',
} as const;

export type ConflictResolutionOutcome =
  (typeof CONFLICT_RESOLUTION_OUTCOME)[keyof typeof CONFLICT_RESOLUTION_OUTCOME];

/** Every resolution outcome, in declaration order. */
export const CONFLICT_RESOLUTION_OUTCOMES = Object.freeze(
  Object.values(CONFLICT_RESOLUTION_OUTCOME),
) as readonly [ConflictResolutionOutcome, ...ConflictResolutionOutcome[]];

export function isConflictStrategy(value: unknown): value is ConflictStrategy {
  return typeof value === 'string' && (CONFLICT_STRATEGIES as readonly string[]).includes(value);
}

export function isFieldPolicy(value: unknown): value is FieldPolicy {
  return typeof value === 'string' && (FIELD_POLICIES as readonly string[]).includes(value);
}
