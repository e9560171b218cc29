import { sql, type Kysely, type RawBuilder } from 'kysely';
import { ENTITY_SYNC_ORDER, type CursorPosition, type EntityType } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';

/** A row of the change feed, positioned by (transaction id, sequence). */
export interface FeedRow {
  readonly seq: string;
  readonly xid: string;
  readonly entityType: EntityType;
  readonly entityId: string;
  readonly changeType: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly version: number;
  readonly originDeviceId: string | null;
  readonly createdAt: Date;
}

/** Where a reader stands, per entity type (types absent from the map are not read). */
export type FeedPositions = ReadonlyMap<EntityType, CursorPosition>;

export interface FeedFilter {
  /** The owner of the changes read (the caller, or the catalog user for catalog pulls). */
  readonly userId: string;
  readonly positions: FeedPositions;
  /** Leave out changes this device made itself (server-authored ones, origin null, stay). */
  readonly excludeDeviceId?: string | undefined;
  /** Catalog: only products that are public now, or tombstones. */
  readonly publicProductsOnly?: boolean | undefined;
}

/**
 * Only transactions older than every transaction still running are read: a change whose
 * transaction has not committed yet can never be stepped over, whatever the commit order.
 */
const VISIBLE = sql`c.xid < pg_snapshot_xmin(pg_current_snapshot())`;

function after(p: CursorPosition): RawBuilder<unknown> {
  return sql`(c.xid, c.seq) > (${p.xid}::xid8, ${p.seq}::bigint)`;
}

/** The conditions every read of the feed shares: owner, visibility, device and catalog rules. */
function commonParts(filter: FeedFilter): RawBuilder<unknown>[] {
  const parts: RawBuilder<unknown>[] = [sql`c.user_id = ${filter.userId}`, VISIBLE];
  if (filter.excludeDeviceId !== undefined) {
    parts.push(sql`(c.origin_device_id is null or c.origin_device_id <> ${filter.excludeDeviceId})`);
  }
  if (filter.publicProductsOnly) {
    parts.push(sql`c.entity_type = 'products'`);
    parts.push(sql`exists (select 1 from products p where p.id = c.entity_id and (p.is_public or p.deleted_at is not null))`);
  }
  return parts;
}

/** The positions read, in sync order, and the one they share when they are all equal. */
function positionsRead(filter: FeedFilter): { entries: (readonly [EntityType, CursorPosition])[]; shared: CursorPosition | undefined } {
  const entries = ENTITY_SYNC_ORDER.filter((t) => filter.positions.has(t)).map((t) => [t, filter.positions.get(t)!] as const);
  const first = entries[0]?.[1];
  const allSame = first !== undefined && entries.every(([, p]) => p.xid === first.xid && p.seq === first.seq);
  return { entries, shared: allSame ? first : undefined };
}

function predicate(filter: FeedFilter): RawBuilder<unknown> {
  const parts = commonParts(filter);
  const { entries, shared } = positionsRead(filter);
  if (shared !== undefined) {
    parts.push(after(shared));
    if (entries.length < ENTITY_SYNC_ORDER.length) {
      parts.push(sql`c.entity_type = any(${entries.map(([t]) => t)}::text[])`);
    }
  } else {
    const min = entries.reduce<CursorPosition | undefined>(
      (m, [, p]) => (m === undefined || BigInt(p.xid) < BigInt(m.xid) || (p.xid === m.xid && BigInt(p.seq) < BigInt(m.seq)) ? p : m),
      undefined,
    );
    if (min !== undefined) parts.push(after(min));
    parts.push(sql`(${sql.join(entries.map(([t, p]) => sql`(c.entity_type = ${t} and ${after(p)})`), sql` or `)})`);
  }
  return sql.join(parts, sql` and `);
}

const FEED_COLUMNS = sql`c.seq, c.xid, c.entity_type, c.entity_id, c.change_type, c.version, c.origin_device_id, c.created_at`;

/**
 * The next `limit` visible changes after the reader's positions, in feed order. Every shape
 * reads index ranges of at most `limit` rows, so a page costs the same however long the
 * feed: all types at one position read one range of (user_id, xid, seq); a type filter or
 * per-type positions read one range of (user_id, entity_type, xid, seq) per type, merged.
 */
export async function readFeed(db: Kysely<DB>, filter: FeedFilter, limit: number): Promise<FeedRow[]> {
  if (filter.positions.size === 0) return [];
  const { entries, shared } = positionsRead(filter);
  const common = commonParts(filter);
  const source =
    shared !== undefined && entries.length === ENTITY_SYNC_ORDER.length
      ? sql`select ${FEED_COLUMNS} from sync_changes c where ${sql.join([...common, after(shared)], sql` and `)}
          order by c.xid, c.seq limit ${limit}`
      : sql.join(
          entries.map(
            ([type, position]) => sql`(select ${FEED_COLUMNS} from sync_changes c
              where ${sql.join([...common, sql`c.entity_type = ${type}`, after(position)], sql` and `)}
              order by c.xid, c.seq limit ${limit})`,
          ),
          sql` union all `,
        );
  const { rows } = await sql<{
    seq: string;
    xid: string;
    entity_type: EntityType;
    entity_id: string;
    change_type: FeedRow['changeType'];
    version: number;
    origin_device_id: string | null;
    created_at: Date;
  }>`
    select f.seq::text as seq, f.xid::text as xid, f.entity_type, f.entity_id, f.change_type, f.version,
           f.origin_device_id, f.created_at
    from (${source}) f
    order by f.xid, f.seq
    limit ${limit}`.execute(db);
  return rows.map((r) => ({
    seq: r.seq,
    xid: r.xid,
    entityType: r.entity_type,
    entityId: r.entity_id,
    changeType: r.change_type,
    version: r.version,
    originDeviceId: r.origin_device_id,
    createdAt: r.created_at,
  }));
}

/**
 * The newest visible position of the feed for these types (ignoring the device rule), so a
 * reader that has seen everything moves past trailing changes it was not sent. One
 * backward index probe per type read, whatever the feed's length.
 */
export async function feedHead(db: Kysely<DB>, userId: string, types: readonly EntityType[]): Promise<CursorPosition | undefined> {
  const newest = (typeFilter: RawBuilder<unknown>) => sql`(select c.xid, c.seq from sync_changes c
    where c.user_id = ${userId} and ${VISIBLE} ${typeFilter}
    order by c.xid desc, c.seq desc limit 1)`;
  const source =
    types.length >= ENTITY_SYNC_ORDER.length
      ? newest(sql``)
      : sql.join(
          types.map((t) => newest(sql`and c.entity_type = ${t}`)),
          sql` union all `,
        );
  const { rows } = await sql<{ xid: string; seq: string }>`
    select h.xid::text as xid, h.seq::text as seq from (${source}) h
    order by h.xid desc, h.seq desc limit 1`.execute(db);
  const row = rows[0];
  return row ? { xid: row.xid, seq: row.seq } : undefined;
}

/** How many visible changes the reader has not read yet. */
export async function countPending(db: Kysely<DB>, filter: FeedFilter): Promise<number> {
  if (filter.positions.size === 0) return 0;
  const { rows } = await sql<{ n: string | number }>`
    select count(*) as n from sync_changes c where ${predicate(filter)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}
