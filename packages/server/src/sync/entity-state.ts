import type { EntityType } from '@sync-engine/shared';

/**
 * An entity's full state as the API shows it: server-managed fields (timestamps as ISO
 * strings) plus every field of the entity, FKs holding server ids.
 */
export interface EntityState {
  readonly id: string;
  readonly userId: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deletedAt: string | null;
  readonly [field: string]: unknown;
}

/** Live entity states of one user, by type and server id; what a batch decides against. */
export class EntityStateMap {
  private readonly byType = new Map<EntityType, Map<string, EntityState>>();

  get(type: EntityType, id: string): EntityState | undefined {
    // Server ids are lower-case UUIDs; a client may send them in any case.
    return this.byType.get(type)?.get(id.toLowerCase());
  }

  set(type: EntityType, state: EntityState): void {
    let states = this.byType.get(type);
    if (!states) {
      states = new Map();
      this.byType.set(type, states);
    }
    states.set(state.id, state);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Server ids are UUIDs; anything else can only be a client id. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
