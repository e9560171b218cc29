import { sql, type Kysely } from 'kysely';
import { ENTITY_SYNC_ORDER, START_POSITION, comparePositions, type CursorPosition, type EntityType, type SyncStatus } from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import { countPending } from './pull/change-feed.ts';
import type { PullService } from './pull/pull-service.ts';

type StoredPositions = Partial<Record<EntityType, CursorPosition>>;

/**
 * What the server remembers of each device: when it last synced and how far it has pulled
 * per entity type. Everything is keyed by user and device; another user's device does not
 * exist for the caller.
 */
export class DeviceStateService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly pull: PullService,
  ) {}

  /**
   * Records a pull the device was answered: its new positions and the sync time. A type
   * keeps a position once the device has read it (in this pull, or earlier as its cursor
   * shows); a type never read stays without one, so `/status` reports it as null.
   */
  async rememberPull(
    userId: string,
    deviceId: string,
    positions: ReadonlyMap<EntityType, CursorPosition>,
    readTypes: ReadonlySet<EntityType>,
  ): Promise<void> {
    const stored: StoredPositions = {};
    for (const [type, position] of positions) {
      if (readTypes.has(type) || comparePositions(position, START_POSITION) !== 0) stored[type] = position;
    }
    await sql`
      insert into sync_states (user_id, device_id, cursor_positions, last_sync_at, updated_at)
      values (${userId}, ${deviceId}, ${JSON.stringify(stored)}::jsonb, now(), now())
      on conflict (user_id, device_id) do update
        set cursor_positions = excluded.cursor_positions, last_sync_at = now(), updated_at = now()`.execute(this.db);
  }

  /**
   * Forgets the device: last sync time, positions, and any lock it holds. The row itself
   * stays so the fencing token keeps growing: a holder from before the reset can never
   * share a token with one after it.
   */
  async reset(userId: string, deviceId: string): Promise<void> {
    await sql`
      update sync_states
      set lock_owner = null, lock_expires_at = null, last_sync_at = null,
          cursor_positions = '{}'::jsonb, updated_at = now()
      where user_id = ${userId} and device_id = ${deviceId}`.execute(this.db);
  }

  async status(userId: string, deviceId: string): Promise<SyncStatus> {
    const { rows } = await sql<{
      last_sync_at: Date | null;
      cursor_positions: StoredPositions | null;
      in_progress: boolean;
    }>`
      select last_sync_at, cursor_positions,
             (lock_owner is not null and lock_expires_at > now()) as in_progress
      from sync_states where user_id = ${userId} and device_id = ${deviceId}`.execute(this.db);
    const row = rows[0];
    const stored = row?.cursor_positions ?? {};
    const positions = new Map<EntityType, CursorPosition>(
      ENTITY_SYNC_ORDER.map((t) => [t, stored[t] ?? START_POSITION] as const),
    );
    const cursorPositions: Partial<Record<EntityType, string | null>> = {};
    for (const t of ENTITY_SYNC_ORDER) {
      const p = stored[t];
      cursorPositions[t] = p === undefined ? null : this.pull.encodeEntityCursor(userId, 'user', positions, t);
    }
    const [pendingChanges, conflicts] = await Promise.all([
      countPending(this.db, { userId, positions, excludeDeviceId: deviceId }),
      sql<{ n: string | number }>`select count(*) as n from sync_conflicts where user_id = ${userId} and status = 'PENDING'`
        .execute(this.db)
        .then((r) => Number(r.rows[0]?.n ?? 0)),
    ]);
    return {
      deviceId,
      lastSyncTime: row?.last_sync_at ? row.last_sync_at.toISOString() : null,
      syncInProgress: row?.in_progress ?? false,
      cursorPositions,
      pendingChanges,
      conflicts,
    };
  }
}
