import type { EntityType } from '@sync-engine/shared';

/**
 * Client id → server id per entity type, for one user. The server keeps these forever, so a
 * change may name an entity or a foreign key by either id, from any device of the user.
 */
export class IdMap {
  private readonly map = new Map<string, string>();

  private static key(type: EntityType, clientId: string): string {
    return `${type}\u0000${clientId}`;
  }

  get(type: EntityType, clientId: string): string | undefined {
    return this.map.get(IdMap.key(type, clientId));
  }

  set(type: EntityType, clientId: string, serverId: string): void {
    this.map.set(IdMap.key(type, clientId), serverId);
  }
}
