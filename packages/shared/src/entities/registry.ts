import { AI_USAGE_RECORDS } from './ai-usage-records.ts';
import { CONSUMPTIONS } from './consumptions.ts';
import type { EntityDefinition } from './define-entity.ts';
import { DEVICES } from './devices.ts';
import type { EntityType } from './entity-types.ts';
import { GOALS } from './goals.ts';
import { INVENTORY_ITEMS } from './inventory-items.ts';
import { JOURNAL_ENTRIES } from './journal-entries.ts';
import { PRODUCTS } from './products.ts';
import { PURCHASES } from './purchases.ts';
import { SESSIONS } from './sessions.ts';

/** Every syncable entity's definition, keyed by entity type. The one place fields are declared. */
export const ENTITY_REGISTRY: Readonly<Record<EntityType, EntityDefinition>> = Object.freeze({
  products: PRODUCTS,
  devices: DEVICES,
  sessions: SESSIONS,
  consumptions: CONSUMPTIONS,
  journal_entries: JOURNAL_ENTRIES,
  purchases: PURCHASES,
  inventory_items: INVENTORY_ITEMS,
  goals: GOALS,
  ai_usage_records: AI_USAGE_RECORDS,
});

export function getEntityDefinition(type: EntityType): EntityDefinition {
  return ENTITY_REGISTRY[type];
}
