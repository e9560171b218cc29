import { SyncTransport, type EntityRow, type FetchFunction } from '@sync-engine/client';
import {
  ENTITY_REGISTRY,
  ENTITY_SYNC_ORDER,
  PullResultSchema,
  getForeignKeyRelations,
  jsonEquals,
  type EntityType,
} from '@sync-engine/shared';

/** A user's entities as the server holds them: type → server id → full state. */
export type ServerState = Map<EntityType, Map<string, Record<string, unknown>>>;

/**
 * Everything the server holds for the token's user: a pull from the start without a
 * deviceId (so nothing is left out), paged until hasMore is false. Each change carries the
 * entity's latest state, so the last one seen per entity is the state.
 */
export async function readServerState(
  baseUrl: string,
  token: string,
  fetchFn?: FetchFunction,
): Promise<ServerState> {
  const transport = new SyncTransport({
    baseUrl,
    getToken: () => token,
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
  const state: ServerState = new Map(
    ENTITY_SYNC_ORDER.map((t) => [t, new Map<string, Record<string, unknown>>()]),
  );
  let cursor: string | undefined;
  for (;;) {
    const page = await transport.send({
      method: 'GET',
      path: '/sync/changes',
      query: { cursor, limit: '1000' },
      okStatuses: [200],
      schema: PullResultSchema,
    });
    for (const change of page.body.changes)
      state.get(change.entityType)?.set(change.entityId, change.data);
    cursor = page.body.cursor;
    if (!page.body.hasMore) return state;
  }
}

export function countEntities(state: ServerState): number {
  let total = 0;
  for (const byId of state.values()) total += byId.size;
  return total;
}

/**
 * How a device's store differs from the server's state (empty = converged): the same
 * entities under the same server ids, at the same versions, tombstoned alike, every
 * registry field deeply equal, and no foreign key left naming a client id.
 * Timestamps the server sets on its own (createdAt, updatedAt, the tombstone's time) are
 * not compared: a device learns them only for changes it did not make itself.
 */
export function diffDeviceFromServer(
  label: string,
  rowsByType: ReadonlyMap<EntityType, readonly EntityRow[]>,
  server: ServerState,
): string[] {
  const problems: string[] = [];
  for (const type of ENTITY_SYNC_ORDER) {
    const expected = server.get(type) ?? new Map<string, Record<string, unknown>>();
    const rows = rowsByType.get(type) ?? [];
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      const state = expected.get(row.id);
      if (state === undefined) {
        problems.push(`${label}: ${type} ${row.id} is not on the server`);
        continue;
      }
      if (row.version !== state['version']) {
        problems.push(
          `${label}: ${type} ${row.id} version ${row.version} ≠ server ${String(state['version'])}`,
        );
      }
      if ((row.deletedAt === null) !== (state['deletedAt'] === null)) {
        problems.push(
          `${label}: ${type} ${row.id} deleted locally=${row.deletedAt !== null} on server=${state['deletedAt'] !== null}`,
        );
      }
      for (const field of Object.keys(ENTITY_REGISTRY[type].fields)) {
        if (!jsonEquals(row.data[field] ?? null, state[field] ?? null)) {
          problems.push(
            `${label}: ${type} ${row.id}.${field} ${JSON.stringify(row.data[field])} ≠ server ${JSON.stringify(state[field])}`,
          );
        }
      }
      for (const relation of getForeignKeyRelations(type)) {
        const value = row.data[relation.sourceField];
        if (typeof value === 'string' && server.get(relation.targetEntity)?.has(value) !== true) {
          problems.push(
            `${label}: ${type} ${row.id}.${relation.sourceField} names ${value}, no server ${relation.targetEntity}`,
          );
        }
      }
    }
    for (const id of expected.keys()) {
      if (!seen.has(id))
        problems.push(`${label}: ${type} ${id} is on the server but not on the device`);
    }
  }
  return problems;
}
