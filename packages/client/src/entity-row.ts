import { ENTITY_REGISTRY, type EntityType } from '@sync-engine/shared';
import type { EntityRow } from './store/local-store.ts';

/*
 * Local rows hold exactly what the server's state holds for the registry fields, so a device
 * that pushed a change and one that pulled it end up equal field by field: the same defaults
 * on CREATE and the same timestamp normalisation as the server's storage.
 */

/** Registry field names of a type, declaration order. */
export function fieldNames(entityType: EntityType): readonly string[] {
  return Object.keys(ENTITY_REGISTRY[entityType].fields);
}

/**
 * Timestamps as the server stores them (`toISOString()`: UTC, milliseconds), so an offset
 * or a shorter fraction written locally compares equal to what the server hands out.
 */
export function normalizeFieldValues(
  entityType: EntityType,
  data: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = ENTITY_REGISTRY[entityType].fields;
  for (const [name, value] of Object.entries(data)) {
    out[name] =
      fields[name]?.kind === 'timestamp' && typeof value === 'string'
        ? new Date(value).toISOString()
        : value;
  }
  return out;
}

/** Every registry field: given values, else the field's default (what the server stores on CREATE). */
export function withDefaults(
  entityType: EntityType,
  data: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(ENTITY_REGISTRY[entityType].fields)) {
    out[name] =
      Object.hasOwn(data, name) && !spec.derived ? data[name] : structuredClone(spec.defaultValue);
  }
  return out;
}

/** A server state (pull `data`, a conflict's resolvedState) as a local row. */
export function rowFromServerState(
  entityType: EntityType,
  state: Readonly<Record<string, unknown>>,
  fallbackVersion = 0,
): EntityRow {
  const data: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(ENTITY_REGISTRY[entityType].fields)) {
    data[name] = Object.hasOwn(state, name) ? state[name] : structuredClone(spec.defaultValue);
  }
  const version = state['version'];
  const deletedAt = state['deletedAt'];
  const updatedAt = state['updatedAt'];
  return {
    id: String(state['id']),
    version: typeof version === 'number' ? version : fallbackVersion,
    deletedAt: typeof deletedAt === 'string' ? deletedAt : null,
    updatedAt: typeof updatedAt === 'string' ? updatedAt : null,
    data: normalizeFieldValues(entityType, data),
  };
}
