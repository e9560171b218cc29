import { SERVER_MANAGED_FIELDS } from '../entities/define-entity.ts';
import type { EntityType } from '../entities/entity-types.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';
import type { EntityConflictConfig } from './conflict-config.ts';
import { resolveFieldValue } from './field-policies.ts';
import {
  CONFLICT_STRATEGY,
  FIELD_POLICY,
  type ConflictStrategy,
  type FieldPolicy,
} from './strategies.ts';

/** An entity state or a client patch: field name → JSON value. */
export type EntityState = Readonly<Record<string, unknown>>;

/** The inputs of one entity merge. */
export interface MergeEntityInput {
  readonly entityType: EntityType;
  readonly config: EntityConflictConfig;
  /** The client's changeData: a patch — only the fields it carries are the client's. */
  readonly local: EntityState;
  /** The full stored state, server-managed fields included. */
  readonly server: EntityState;
  /** The change's `updatedAt` (client modification time), if it sent one. */
  readonly localUpdatedAt?: string | null | undefined;
  /** The stored `updatedAt`; defaults to `server.updatedAt` when that is a string. */
  readonly serverUpdatedAt?: string | null | undefined;
  /** The version the client based its change on (`syncVersion`). */
  readonly localVersion: number;
  /** The stored `version`. */
  readonly serverVersion: number;
}

/**
 * The policy for a client field that has none of its own: MERGE (and MANUAL, when a MANUAL
 * conflict is later resolved by merging) → LAST_WRITE_WINS; SERVER_WINS → the server value;
 * LOCAL_WINS → the client value; LAST_WRITE_WINS → LAST_WRITE_WINS.
 */
export function fallbackPolicyFor(strategy: ConflictStrategy): FieldPolicy {
  switch (strategy) {
    case CONFLICT_STRATEGY.SERVER_WINS:
      return FIELD_POLICY.SERVER_WINS;
    case CONFLICT_STRATEGY.LOCAL_WINS:
      return FIELD_POLICY.LOCAL_WINS;
    case CONFLICT_STRATEGY.MERGE:
    case CONFLICT_STRATEGY.LAST_WRITE_WINS:
    case CONFLICT_STRATEGY.MANUAL:
      return FIELD_POLICY.LAST_WRITE_WINS;
  }
}

const SERVER_MANAGED: ReadonlySet<string> = new Set(SERVER_MANAGED_FIELDS);

/**
 * Whether a conflict always keeps the server value of `field`: server-managed fields, the
 * config's server-derived fields, fields the registry marks derived, and names that are no
 * field of the entity at all (a merge never adds a field the entity does not have).
 */
export function isServerKeptField(
  entityType: EntityType,
  config: EntityConflictConfig,
  field: string,
): boolean {
  if (SERVER_MANAGED.has(field) || config.serverDerivedFields.includes(field)) return true;
  const spec = ENTITY_REGISTRY[entityType].fields[field];
  return spec === undefined || spec.derived;
}

/** The policy a client field is resolved with under `config` (its own, else the fallback). */
export function policyForField(config: EntityConflictConfig, field: string): FieldPolicy {
  return config.fieldPolicies[field]?.policy ?? fallbackPolicyFor(config.defaultStrategy);
}

/**
 * The generic, config-driven merge of a client patch into the stored state. Invariants:
 * fields absent from the patch keep the server value; server-managed, server-derived and
 * unknown fields keep the server value; every other patched field is resolved by its
 * policy, or by the strategy's fallback (`fallbackPolicyFor`). Pure: the inputs are not
 * modified and the result is a new object.
 */
export function mergeEntityInternal(input: MergeEntityInput): Record<string, unknown> {
  const { entityType, config, local, server } = input;
  const serverUpdatedAt =
    input.serverUpdatedAt ?? (typeof server.updatedAt === 'string' ? server.updatedAt : undefined);
  const merged: Record<string, unknown> = { ...server };
  for (const [field, localValue] of Object.entries(local)) {
    if (localValue === undefined || isServerKeptField(entityType, config, field)) continue;
    const value = resolveFieldValue(policyForField(config, field), {
      local: localValue,
      server: server[field],
      localUpdatedAt: input.localUpdatedAt,
      serverUpdatedAt,
      localVersion: input.localVersion,
      serverVersion: input.serverVersion,
      transitions: config.fieldPolicies[field]?.transitions,
    });
    if (value !== undefined) merged[field] = value;
  }
  return merged;
}
