/**
 * Canonical entity types in sync (dependency) order: a parent always comes before the
 * entities whose foreign keys name it, so applying in this order never dangles a reference.
 */
export const ENTITY_SYNC_ORDER = [
  'products',
  'devices',
  'sessions',
  'consumptions',
  'journal_entries',
  'purchases',
  'inventory_items',
  'goals',
  'ai_usage_records',
] as const;

export type EntityType = (typeof ENTITY_SYNC_ORDER)[number];

/** The set of syncable entity types; same members as ENTITY_SYNC_ORDER. */
export const ENTITY_TYPES: readonly EntityType[] = Object.freeze([...ENTITY_SYNC_ORDER]);

const SYNC_RANK: ReadonlyMap<string, number> = new Map(ENTITY_SYNC_ORDER.map((t, i) => [t, i]));

export function isEntityType(value: unknown): value is EntityType {
  return typeof value === 'string' && SYNC_RANK.has(value);
}

/** Position of a type in ENTITY_SYNC_ORDER (unknown types sort last). */
export function syncRank(type: string): number {
  return SYNC_RANK.get(type) ?? ENTITY_SYNC_ORDER.length;
}

/** Orders entity types parents-first; a stable sort with it keeps order within a type. */
export function compareBySyncOrder(a: string, b: string): number {
  return syncRank(a) - syncRank(b);
}

/** Entity type → model name (PascalCase, singular) used by backends that name models that way. */
export const ENTITY_TO_MODEL_NAME = Object.freeze({
  products: 'Product',
  devices: 'Device',
  sessions: 'ConsumptionSession',
  consumptions: 'Consumption',
  journal_entries: 'JournalEntry',
  purchases: 'Purchase',
  inventory_items: 'InventoryItem',
  goals: 'Goal',
  ai_usage_records: 'AIUsageRecord',
} as const satisfies Record<EntityType, string>);

/** Model name → entity type; the inverse of ENTITY_TO_MODEL_NAME. */
export const LEGACY_MODEL_TO_ENTITY: Readonly<Record<string, EntityType>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ENTITY_TO_MODEL_NAME).map(([entity, model]) => [model, entity as EntityType]),
  ),
);
