import { sql, type Kysely } from 'kysely';
import { ENTITY_REGISTRY, ENTITY_SYNC_ORDER, type EntityType } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import { rowToEntityState } from '../../db/entity-rows.ts';
import { EntityStateMap, isUuid } from '../entity-state.ts';
import { IdMap } from '../id-map.ts';
import type { BatchSnapshot } from './batch-decider.ts';
import type { AppliedRequest, ChangeType, SyncChangeInput } from './push-types.ts';

/**
 * Reads, in a fixed number of queries whatever the batch size, every row a batch can touch:
 * requestIds applied before, id mappings of every id the batch names, and the entities
 * (changed ones and FK targets) locked FOR UPDATE in a stable order so concurrent batches
 * of the same user queue instead of deadlocking.
 */
export async function readBatchSnapshot(
  trx: Kysely<DB>,
  userId: string,
  deviceId: string,
  changes: readonly SyncChangeInput[],
): Promise<BatchSnapshot> {
  const requestIds = [...new Set(changes.map((c) => c.requestId))];
  const named = namedIds(changes);
  const clientIds = [...new Set([...named.values()].flatMap((ids) => [...ids]))];

  const [appliedRows, mappingRows] = await Promise.all([
    sql<{ request_id: string; entity_type: EntityType; server_id: string; change_type: ChangeType; version: number }>`
      select request_id, entity_type, server_id, change_type, version from sync_applied_requests
      where user_id = ${userId} and device_id = ${deviceId} and request_id = any(${requestIds}::text[])`.execute(trx),
    clientIds.length === 0
      ? Promise.resolve({ rows: [] as { entity_type: EntityType; client_id: string; server_id: string }[] })
      : sql<{ entity_type: EntityType; client_id: string; server_id: string }>`
      select entity_type, client_id, server_id from id_mappings
      where user_id = ${userId} and client_id = any(${clientIds}::text[])`.execute(trx),
  ]);

  const idMap = new IdMap();
  for (const m of mappingRows.rows) idMap.set(m.entity_type, m.client_id, m.server_id);
  const appliedRequests = new Map<string, AppliedRequest>();
  for (const a of appliedRows.rows) {
    appliedRequests.set(a.request_id, {
      requestId: a.request_id,
      entityType: a.entity_type,
      serverId: a.server_id,
      changeType: a.change_type,
      version: a.version,
    });
  }

  // Server ids to load per type: ids named directly, mapped ones, and earlier results.
  const toLoad = new Map<EntityType, Set<string>>();
  const add = (type: EntityType, id: string) => {
    if (!isUuid(id)) return;
    let set = toLoad.get(type);
    if (!set) toLoad.set(type, (set = new Set()));
    set.add(id.toLowerCase());
  };
  for (const [type, ids] of named) {
    for (const id of ids) {
      add(type, id);
      const mapped = idMap.get(type, id);
      if (mapped !== undefined) add(type, mapped);
    }
  }
  for (const a of appliedRequests.values()) add(a.entityType, a.serverId);
  const macs = [
    ...new Set(
      changes
        .filter((c) => c.entityType === 'devices' && c.changeType === 'CREATE')
        .map((c) => c.changeData['macAddress'])
        .filter((m): m is string => typeof m === 'string'),
    ),
  ];

  if (macs.length > 0) {
    // No unique index can say "one live device per macAddress" (an UPDATE may share one), so
    // device CREATEs naming a macAddress queue per user+address until the other commits;
    // the devices read below, a later statement, then sees the device it created.
    await sql`
      select pg_advisory_xact_lock(k) from (
        select distinct hashtextextended(${userId} || chr(1) || m, 0) as k from unnest(${macs}::text[]) as m order by k
      ) keys`.execute(trx);
  }

  const states = new EntityStateMap();
  const devicesByMac = new Map<string, string>();
  // Sequential on purpose: the locks are taken in sync order, the same in every batch.
  for (const type of ENTITY_SYNC_ORDER) {
    const ids = [...(toLoad.get(type) ?? [])];
    const wantMacs = type === 'devices' && macs.length > 0;
    if (ids.length === 0 && !wantMacs) continue;
    const table = sql.table(ENTITY_REGISTRY[type].table);
    const macFilter = wantMacs
      ? sql`or (mac_address = any(${macs}::text[]) and deleted_at is null)`
      : sql``;
    const { rows } = await sql<Record<string, unknown>>`
      select * from ${table}
      where user_id = ${userId} and (id = any(${ids}::uuid[]) ${macFilter})
      order by id for update`.execute(trx);
    for (const row of rows) {
      const state = rowToEntityState(type, row);
      states.set(type, state);
      if (type === 'devices' && state.deletedAt === null && typeof state['macAddress'] === 'string') {
        devicesByMac.set(state['macAddress'], state.id);
      }
    }
  }
  return { states, idMap, appliedRequests, devicesByMac };
}

/** Every id string the batch names, per entity type: targets and foreign-key values. */
function namedIds(changes: readonly SyncChangeInput[]): Map<EntityType, Set<string>> {
  const named = new Map<EntityType, Set<string>>();
  const add = (type: EntityType, id: unknown) => {
    if (typeof id !== 'string' || id.length === 0) return;
    let set = named.get(type);
    if (!set) named.set(type, (set = new Set()));
    set.add(id);
  };
  for (const c of changes) {
    add(c.entityType, c.entityId);
    if (c.clientId !== undefined) add(c.entityType, c.clientId);
    for (const [name, spec] of Object.entries(ENTITY_REGISTRY[c.entityType].fields)) {
      if (spec.kind === 'ref' && spec.target !== undefined) add(spec.target, c.changeData[name]);
    }
  }
  return named;
}
