import { FIELD_POLICY, resolveConflict, type EntityConflictConfigMap } from '@sync-engine/shared';
import type { ConflictResolver } from './batch-decider.ts';

/** Binds the shared, config-driven conflict core to the push pipeline's port. */
export function createConflictResolver(config: EntityConflictConfigMap): ConflictResolver {
  return (input) => {
    const r = resolveConflict({
      entityType: input.entityType,
      config: config[input.entityType],
      local: input.local,
      server: input.server,
      localUpdatedAt: input.localUpdatedAt ?? null,
      serverUpdatedAt: input.serverUpdatedAt,
      localVersion: input.localVersion,
      serverVersion: input.serverVersion,
    });
    return { strategy: r.strategy, outcome: r.outcome, resolvedState: r.resolvedState };
  };
}

/** The device fields a CREATE matched by macAddress still applies: its LOCAL_WINS fields. */
export function deviceLocalWinsFields(config: EntityConflictConfigMap): string[] {
  return Object.entries(config.devices.fieldPolicies)
    .filter(([, p]) => p.policy === FIELD_POLICY.LOCAL_WINS)
    .map(([field]) => field);
}
