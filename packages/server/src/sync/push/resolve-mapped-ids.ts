import { ENTITY_REGISTRY, type EntityType } from '@sync-engine/shared';
import { isUuid, type EntityStateMap } from '../entity-state.ts';
import type { IdMap } from '../id-map.ts';

export type ResolvedIds =
  | { readonly ok: true; readonly data: Record<string, unknown> }
  | { readonly ok: false; readonly missing: readonly string[] };

/**
 * Rewrites every foreign key of a change to a server id. A value may be a client id the
 * user's mapping knows (this batch, an earlier one, any device) or a server id of one of the
 * user's entities. An optional FK that resolves to nothing is stored as null; a required
 * one fails the change (FK_NOT_FOUND), since its parent may simply not have synced yet.
 */
export function resolveMappedIdsInChange(
  entityType: EntityType,
  data: Record<string, unknown>,
  idMap: IdMap,
  states: EntityStateMap,
): ResolvedIds {
  const out: Record<string, unknown> = { ...data };
  const missing: string[] = [];
  for (const [name, spec] of Object.entries(ENTITY_REGISTRY[entityType].fields)) {
    if (spec.kind !== 'ref' || spec.target === undefined || !(name in data)) continue;
    const value = data[name];
    if (typeof value !== 'string') continue;
    const serverId = resolveReference(spec.target, value, idMap, states);
    if (serverId !== undefined) out[name] = serverId;
    else if (spec.nullable) out[name] = null;
    else missing.push(name);
  }
  return missing.length > 0 ? { ok: false, missing } : { ok: true, data: out };
}

/** The server id `value` names for `target`, if it names an entity of the user at all. */
export function resolveReference(
  target: EntityType,
  value: string,
  idMap: IdMap,
  states: EntityStateMap,
): string | undefined {
  const mapped = idMap.get(target, value);
  if (mapped !== undefined) return mapped;
  // The stored id: canonical lower case whatever case the client wrote it in.
  return isUuid(value) ? states.get(target, value)?.id : undefined;
}
