import type { Kysely } from 'kysely';
import {
  ENTITY_REGISTRY,
  ENTITY_SYNC_ORDER,
  START_POSITION,
  comparePositions,
  computePageDigest,
  computeSyncChangesEtag,
  getMinCursor,
  type CompositeCursor,
  type CursorCodec,
  type CursorPosition,
  type EntityType,
  type PulledChange,
  type PullResult,
} from '@sync-engine/shared';
import { sql } from 'kysely';
import type { DB } from '../../db/schema.ts';
import { rowToEntityState } from '../../db/entity-rows.ts';
import type { EntityState } from '../entity-state.ts';
import { feedHead, readFeed, type FeedRow } from './change-feed.ts';

export interface PullRequest {
  readonly cursor?: string | undefined;
  readonly entityTypes?: readonly EntityType[] | undefined;
  readonly limit: number;
  readonly deviceId?: string | undefined;
  /** Catalog pulls read the catalog user's public products (the lease is checked by the route). */
  readonly scope: 'user' | 'catalog';
}

export interface PullPage {
  readonly body: PullResult;
  readonly etag: string;
  /** Per-type positions after this page (every type), for the device's remembered state. */
  readonly positions: ReadonlyMap<EntityType, CursorPosition>;
  /** The types this page read (the filter, or every type). */
  readonly readTypes: ReadonlySet<EntityType>;
}

/**
 * Cursors are bound to who reads and what they read: a user cursor is refused for the
 * catalog and the other way round, so a cursor never starts reading another stream.
 */
function cursorSubject(userId: string, scope: 'user' | 'catalog'): string {
  return scope === 'catalog' ? `${userId}\u0000catalog` : userId;
}

/**
 * Incremental pulls over the change feed. A page holds each change's latest entity state;
 * the cursor moves only over committed transactions older than any still running, so a
 * change is never skipped, and per-type positions follow the MIN rule so filtering by type
 * on one pull never hides another type's changes from a later one.
 */
export class PullService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly codec: CursorCodec,
    private readonly catalogUserId: string,
  ) {}

  /** Decodes a cursor into per-type positions for the types requested (400 INVALID_CURSOR if it isn't ours). */
  decodePositions(userId: string, scope: 'user' | 'catalog', cursor: string | undefined): Map<EntityType, CursorPosition> {
    const decoded: CompositeCursor | undefined =
      cursor === undefined ? undefined : this.codec.decode(cursorSubject(userId, scope), cursor);
    const positions = new Map<EntityType, CursorPosition>();
    for (const type of ENTITY_SYNC_ORDER) {
      positions.set(type, decoded?.entityPositions?.[type] ?? decoded?.position ?? START_POSITION);
    }
    return positions;
  }

  encode(userId: string, scope: 'user' | 'catalog', positions: ReadonlyMap<EntityType, CursorPosition>): string {
    const all = [...positions.values()];
    const position = getMinCursor(all);
    const uniform = all.every((p) => comparePositions(p, position) === 0);
    const cursor: CompositeCursor = uniform ? { position } : { position, entityPositions: Object.fromEntries(positions) };
    return this.codec.encode(cursorSubject(userId, scope), cursor);
  }

  /**
   * The cursor of one entity type: that type's position, and for every other type the MIN
   * over all of them (`positions` holds every type, START where never read). Whatever pull a
   * client starts from it, filtered or not, no change of any type is skipped; other types
   * may at worst be re-sent.
   */
  encodeEntityCursor(
    userId: string,
    scope: 'user' | 'catalog',
    positions: ReadonlyMap<EntityType, CursorPosition>,
    type: EntityType,
  ): string {
    const own = positions.get(type) ?? START_POSITION;
    const position = getMinCursor(ENTITY_SYNC_ORDER.map((t) => positions.get(t) ?? START_POSITION));
    const cursor: CompositeCursor = comparePositions(own, position) === 0 ? { position } : { position, entityPositions: { [type]: own } };
    return this.codec.encode(cursorSubject(userId, scope), cursor);
  }

  /**
   * One page. Every read runs in one REPEATABLE READ snapshot, so the horizon, the page
   * and the feed head agree: nothing that commits meanwhile can be stepped over.
   */
  async pull(userId: string, req: PullRequest): Promise<PullPage> {
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((trx) => this.pullIn(trx, userId, req));
  }

  private async pullIn(db: Kysely<DB>, userId: string, req: PullRequest): Promise<PullPage> {
    const scope = req.scope;
    const types = scope === 'catalog' ? (['products'] as EntityType[]) : [...(req.entityTypes ?? ENTITY_SYNC_ORDER)];
    const all = this.decodePositions(userId, scope, req.cursor);
    const reading = new Map(types.map((t) => [t, all.get(t) ?? START_POSITION] as const));
    const owner = scope === 'catalog' ? this.catalogUserId : userId;

    const rows = await readFeed(
      db,
      { userId: owner, positions: reading, excludeDeviceId: scope === 'user' ? req.deviceId : undefined, publicProductsOnly: scope === 'catalog' },
      req.limit + 1,
    );
    const hasMore = rows.length > req.limit;
    const page = hasMore ? rows.slice(0, req.limit) : rows;

    // Advance every type read: to the last change sent, or, when the page drained the
    // visible feed, to its head (past changes left out by the device rule).
    let reached: CursorPosition | undefined = page.length > 0 ? positionOf(page[page.length - 1]!) : undefined;
    if (!hasMore) {
      const head = await feedHead(db, owner, types);
      if (head !== undefined && (reached === undefined || comparePositions(head, reached) > 0)) reached = head;
    }
    const next = new Map(all);
    if (reached !== undefined) {
      for (const t of types) {
        const current = next.get(t) ?? START_POSITION;
        if (comparePositions(reached, current) > 0) next.set(t, reached);
      }
    }

    const changes = await this.withLatestState(db, owner, page);
    const cursor = this.encode(userId, scope, next);
    const entityCursors: Partial<Record<EntityType, string>> = {};
    for (const t of types) entityCursors[t] = this.encodeEntityCursor(userId, scope, next, t);
    const body: PullResult = { changes, cursor, hasMore, recordsReturned: changes.length, entityCursors };
    const etag = computeSyncChangesEtag({
      userId,
      cursorIn: req.cursor,
      cursorOut: cursor,
      entityTypes: req.entityTypes,
      limit: req.limit,
      scope,
      deviceId: req.deviceId,
      hasMore,
      pageDigest: computePageDigest(changes),
    });
    return { body, etag, positions: next, readTypes: new Set(types) };
  }

  /** Attaches each change's latest entity state: one query per entity type on the page. */
  private async withLatestState(db: Kysely<DB>, owner: string, page: readonly FeedRow[]): Promise<PulledChange[]> {
    const idsByType = new Map<EntityType, Set<string>>();
    for (const r of page) {
      let ids = idsByType.get(r.entityType);
      if (!ids) idsByType.set(r.entityType, (ids = new Set()));
      ids.add(r.entityId);
    }
    const states = new Map<string, EntityState>();
    for (const [type, ids] of idsByType) {
      const { rows } = await sql<Record<string, unknown>>`
        select * from ${sql.table(ENTITY_REGISTRY[type].table)}
        where user_id = ${owner} and id = any(${[...ids]}::uuid[])`.execute(db);
      for (const row of rows) {
        const state = rowToEntityState(type, row);
        states.set(`${type}:${state.id}`, state);
      }
    }
    const changes: PulledChange[] = [];
    for (const r of page) {
      const data = states.get(`${r.entityType}:${r.entityId}`);
      if (data === undefined) continue; // entity rows are never removed; defensive only
      changes.push({
        changeId: r.seq,
        entityType: r.entityType,
        entityId: r.entityId,
        changeType: r.changeType,
        version: r.version,
        data,
        createdAt: r.createdAt.toISOString(),
        originDeviceId: r.originDeviceId,
      });
    }
    return changes;
  }
}

function positionOf(row: FeedRow): CursorPosition {
  return { xid: row.xid, seq: row.seq };
}
