import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { jsonbText, type CaptureMutationRecord, type CaptureRows, type ModelStatsDelta } from './capture-rows.ts';

/** Rows per INSERT statement (well below PostgreSQL's 65,535 bind parameters). */
const REQUEST_ROWS_PER_INSERT = 500;
const MUTATION_ROWS_PER_INSERT = 1000;
/** Captures deleted per statement when pruning, so no statement runs long. */
const PRUNE_CHUNK = 2000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Writes a batch of captures in one transaction: the requests, their mutations (multi-row
 * inserts) and the per-model bucket counts (one upsert, keys in a fixed order so two
 * instances flushing at once cannot deadlock).
 */
export async function writeCaptures(db: Kysely<DB>, batch: readonly CaptureRows[]): Promise<void> {
  if (batch.length === 0) return;
  const stats = new Map<string, { bucket: number; entityType: string; delta: ModelStatsDelta }>();
  for (const rows of batch) {
    for (const [entityType, delta] of rows.models) {
      const key = `${rows.bucketStartMs}\u0000${entityType}`;
      const sum = stats.get(key);
      if (sum) {
        sum.delta.mutations += delta.mutations;
        sum.delta.conflicts += delta.conflicts;
        sum.delta.failures += delta.failures;
      } else {
        stats.set(key, { bucket: rows.bucketStartMs, entityType, delta: { ...delta } });
      }
    }
  }
  const statRows = [...stats.values()]
    .sort((a, b) => a.bucket - b.bucket || (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0))
    .map((s) => ({
      bucket_start: new Date(s.bucket).toISOString(),
      entity_type: s.entityType as never,
      mutations: s.delta.mutations,
      conflicts: s.delta.conflicts,
      failures: s.delta.failures,
    }));

  await db.transaction().execute(async (trx) => {
    for (const part of chunks(batch.map((b) => b.request), REQUEST_ROWS_PER_INSERT)) {
      await trx.insertInto('capture_requests').values(part).execute();
    }
    for (const part of chunks(batch.flatMap((b) => b.mutations), MUTATION_ROWS_PER_INSERT)) {
      await insertMutations(trx, part);
    }
    if (statRows.length > 0) {
      await trx
        .insertInto('capture_model_stats')
        .values(statRows)
        .onConflict((oc) =>
          oc.columns(['bucket_start', 'entity_type']).doUpdateSet({
            mutations: sql`capture_model_stats.mutations + excluded.mutations`,
            conflicts: sql`capture_model_stats.conflicts + excluded.conflicts`,
            failures: sql`capture_model_stats.failures + excluded.failures`,
          }),
        )
        .execute();
    }
  });
}

/** One statement, one parameter: the rows as a JSON array, unpacked by the server. */
async function insertMutations(db: Kysely<DB>, rows: readonly CaptureMutationRecord[]): Promise<void> {
  await sql`
    insert into capture_mutations (capture_id, idx, started_at, user_id, client_id, request_id, entity_type,
      entity_id, client_entity_id, change_type, outcome, reason, reason_code, reason_detail, conflict_id,
      payload, before, after, diff, duration_ms)
    select capture_id, idx, started_at, user_id, client_id, request_id, entity_type,
      entity_id, client_entity_id, change_type, outcome, reason, reason_code, reason_detail, conflict_id,
      payload, before, after, diff, duration_ms
    from jsonb_to_recordset(${jsonbText(rows)}::jsonb) as r(capture_id uuid, idx integer, started_at timestamptz,
      user_id text, client_id text, request_id text, entity_type text, entity_id text, client_entity_id text,
      change_type text, outcome text, reason text, reason_code text, reason_detail jsonb, conflict_id uuid,
      payload jsonb, before jsonb, after jsonb, diff jsonb, duration_ms double precision)`.execute(db);
}

/**
 * Deletes captures (with their mutations) that started before `cutoff`, a chunk per
 * statement, and the model buckets older than it. Returns how many captures went.
 */
export async function pruneCaptures(db: Kysely<DB>, cutoff: Date): Promise<number> {
  const before = cutoff.toISOString();
  let total = 0;
  for (;;) {
    const result = await sql`
      delete from capture_requests where id in (
        select id from capture_requests where started_at < ${before}::timestamptz
        order by started_at limit ${PRUNE_CHUNK})`.execute(db);
    const n = Number(result.numAffectedRows ?? 0);
    total += n;
    if (n < PRUNE_CHUNK) break;
  }
  await sql`delete from capture_model_stats where bucket_start < ${before}::timestamptz`.execute(db);
  return total;
}
