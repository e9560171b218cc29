import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import type {
  EntityConflictConfig,
  EntityConflictConfigMap,
  FieldPolicyConfig,
} from './conflict-config.ts';
import { deepFreeze } from './deep-freeze.ts';
import { FIELD_POLICY } from './strategies.ts';
import {
  expandIssues,
  formatPath,
  SYNC_CONFIG_SCHEMA,
  type SyncConfig,
} from './sync-config-schema.ts';

export {
  configurableFields,
  SYNC_CONFIG_SCHEMA,
  type EntityConflictOverride,
  type SyncConfig,
} from './sync-config-schema.ts';

export interface SyncConfigIssue {
  /** Dotted path inside the file, e.g. `entities.products.fieldPolicies.name`. */
  readonly path: string;
  readonly message: string;
}

export type SyncConfigResult =
  | { readonly ok: true; readonly config: SyncConfig }
  | { readonly ok: false; readonly message: string; readonly issues: readonly SyncConfigIssue[] };

/**
 * Validates a parsed SYNC_CONFIG value. On failure the one-line `message` names every bad
 * path (`invalid SYNC_CONFIG: entities.products.fieldPolicies.nmae: unknown field …`).
 */
export function parseSyncConfig(json: unknown): SyncConfigResult {
  const parsed = SYNC_CONFIG_SCHEMA.safeParse(json);
  if (parsed.success) return { ok: true, config: deepFreeze(parsed.data) };
  const issues = expandIssues(parsed.error.issues).map((i) => ({
    path: formatPath(i.path),
    message: i.message,
  }));
  const message = `invalid SYNC_CONFIG: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
  return { ok: false, message: message.replace(/\s*\n\s*/g, ' '), issues };
}

/** Parses the text of a SYNC_CONFIG file: JSON first, then `parseSyncConfig`. */
export function parseSyncConfigText(text: string): SyncConfigResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `invalid SYNC_CONFIG: not valid JSON (${reason})`.replace(/\s*\n\s*/g, ' ');
    return { ok: false, message, issues: [{ path: '(root)', message: 'not valid JSON' }] };
  }
  return parseSyncConfig(json);
}

/**
 * The conflict config with SYNC_CONFIG's overrides applied: an override's default strategy
 * replaces the entity's; its field policies replace those fields' policies (the others stay);
 * server-derived fields, custom merges and conflict-freedom never change. A MONOTONIC override
 * without transitions keeps the base's transitions. Pure; returns a new deep-frozen map.
 */
export function applySyncConfig(
  base: EntityConflictConfigMap,
  overrides: SyncConfig,
): EntityConflictConfigMap {
  const result = {} as Record<EntityType, EntityConflictConfig>;
  for (const entityType of ENTITY_SYNC_ORDER) {
    const baseConfig = base[entityType];
    const override = overrides.entities?.[entityType];
    if (!override) {
      result[entityType] = baseConfig;
      continue;
    }
    const fieldPolicies: Record<string, FieldPolicyConfig> = { ...baseConfig.fieldPolicies };
    for (const [field, { policy, transitions }] of Object.entries(override.fieldPolicies ?? {})) {
      const kept =
        policy === FIELD_POLICY.MONOTONIC
          ? (transitions ?? baseConfig.fieldPolicies[field]?.transitions)
          : undefined;
      fieldPolicies[field] = kept ? { policy, transitions: [...kept] } : { policy };
    }
    result[entityType] = {
      ...baseConfig,
      defaultStrategy: override.defaultStrategy ?? baseConfig.defaultStrategy,
      fieldPolicies,
    };
  }
  return deepFreeze(result);
}
