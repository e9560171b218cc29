import { sql, type Kysely } from 'kysely';
import type { ConflictListQuery, ConflictListResult } from '@sync-engine/shared';
import type { DB } from '../../db/schema.ts';
import type { ConflictPageCursorCodec } from './conflict-page-cursor.ts';
import { CONFLICT_COLUMNS, toListedConflict, type ConflictRow } from './conflict-rows.ts';

/**
 * One page of the user's conflicts, newest first, optionally of one status. Keyset paging
 * on (created_at, id): a page never repeats or skips a row of an earlier page, whatever is
 * inserted meanwhile. `nextCursor` is null on the last page.
 */
export async function listConflicts(
  db: Kysely<DB>,
  cursors: ConflictPageCursorCodec,
  userId: string,
  query: ConflictListQuery,
): Promise<ConflictListResult> {
  const after =
    query.cursor === undefined ? undefined : cursors.decode(userId, query.status, query.cursor);
  const { rows } = await sql<ConflictRow>`
    select ${CONFLICT_COLUMNS} from sync_conflicts
    where user_id = ${userId}
      ${query.status === undefined ? sql`` : sql`and status = ${query.status}`}
      ${after === undefined ? sql`` : sql`and (created_at, id) < ((${after.createdKey}::timestamp at time zone 'UTC'), ${after.id}::uuid)`}
    order by created_at desc, id desc
    limit ${query.limit + 1}`.execute(db);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > query.limit && last !== undefined
      ? cursors.encode(userId, query.status, { createdKey: last.created_key, id: last.id })
      : null;
  return { conflicts: page.map(toListedConflict), nextCursor };
}
