import { sql, type Kysely } from 'kysely';
import type { ConflictStatus, EntityType, ListedConflict } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';

/** A sync_conflicts row as the conflict services read it. */
export interface ConflictRow {
  readonly id: string;
  readonly entity_type: EntityType;
  readonly entity_id: string;
  readonly device_id: string;
  readonly strategy: string;
  readonly outcome: string;
  readonly status: ConflictStatus;
  readonly resolution: string | null;
  readonly client_version: number;
  readonly server_version: number;
  readonly client_data: Record<string, unknown>;
  readonly server_data: Record<string, unknown>;
  readonly resolved_data: Record<string, unknown> | null;
  readonly created_at: Date;
  readonly resolved_at: Date | null;
  /** created_at in UTC to the microsecond: the keyset position of the row. */
  readonly created_key: string;
}

export const CONFLICT_COLUMNS = sql`id, entity_type, entity_id, device_id, strategy, outcome, status, resolution,
  client_version, server_version, client_data, server_data, resolved_data, created_at, resolved_at,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as created_key`;

/** A conflict as its user sees it (CONTRACT §6), plus the versions and the resolved state. */
export function toListedConflict(row: ConflictRow): ListedConflict & {
  clientVersion: number;
  serverVersion: number;
  resolvedData: Record<string, unknown> | null;
} {
  return {
    conflictId: row.id,
    entityType: row.entity_type,
    entityId: row.entity_id,
    strategy: row.strategy as ListedConflict['strategy'],
    outcome: row.outcome as ListedConflict['outcome'],
    status: row.status,
    resolution: row.resolution as ListedConflict['resolution'],
    clientData: row.client_data,
    serverData: row.server_data,
    createdAt: row.created_at.toISOString(),
    resolvedAt: row.resolved_at === null ? null : row.resolved_at.toISOString(),
    clientVersion: row.client_version,
    serverVersion: row.server_version,
    resolvedData: row.resolved_data,
  };
}

/** The user's conflict `id`, locked for this transaction; undefined when it is not theirs. */
export async function lockConflict(
  trx: Kysely<DB>,
  userId: string,
  id: string,
): Promise<ConflictRow | undefined> {
  const { rows } = await sql<ConflictRow>`
    select ${CONFLICT_COLUMNS} from sync_conflicts
    where id = ${id}::uuid and user_id = ${userId}
    for update`.execute(trx);
  return rows[0];
}
