import { sql, type Insertable, type Kysely } from 'kysely';
import type { CaptureMutationDocumentsTable, DB } from '../db/schema.ts';
import { jsonbText, type CaptureMutationRecord, type CaptureRows, type ModelStatsDelta } from './capture-rows.ts';
import { afterOverPayload, diffIsDerivable } from './stored-diff.ts';

/** Rows per INSERT statement (well below PostgreSQL's 65,535 bind parameters). */
const REQUEST_ROWS_PER_INSERT = 500;
/** Mutations per INSERT: one JSON document each; PostgreSQL parses a few small ones faster than one huge one. */
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
    for (const part of chunks(
      batch.map((b) => b.request),
      REQUEST_ROWS_PER_INSERT,
    )) {
      await trx.insertInto('capture_requests').values(part).execute();
    }
    for (const document of searchedMutationDocuments(batch, MUTATION_ROWS_PER_INSERT)) {
      await insertMutations(trx, document);
    }
    for (const part of chunks(mutationDocumentRows(batch, MUTATION_ROWS_PER_INSERT), REQUEST_ROWS_PER_INSERT)) {
      await trx.insertInto('capture_mutation_documents').values(part).execute();
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

/**
 * Rejected and conflicted mutations get a row of their own: the failure and conflict views
 * filter, group and join on them. The rest (applied, skipped) are only ever read by capture,
 * so they go into one document per capture and chunk (migration 0005), stored as JSON text
 * (migration 0006).
 */
function isSearched(m: CaptureMutationRecord): boolean {
  return m.outcome === 'rejected' || m.outcome === 'conflict' || m.conflict_id !== null;
}

/** A mutation as the positions `insertMutations` reads (m->0 … m->15); the capture's own fields are sent once. */
function mutationTuple(m: CaptureMutationRecord): unknown[] {
  return [
    m.idx,
    m.request_id,
    m.entity_type,
    m.entity_id,
    m.client_entity_id,
    m.change_type,
    m.outcome,
    m.reason,
    m.reason_code,
    m.reason_detail,
    m.conflict_id,
    m.payload,
    m.before,
    m.after,
    m.diff,
    m.duration_ms,
  ];
}

/**
 * A mutation as a document holds it: `after` as what it adds to the payload, positions 13 and
 * 16 (see afterOverPayload), and no diff (null) where the view's reader derives it — an
 * applied CREATE's state is otherwise its payload twice and its diff a third list of names.
 */
function documentTuple(m: CaptureMutationRecord): unknown[] {
  const tuple = mutationTuple(m);
  const delta = afterOverPayload(m.payload, m.after);
  if (delta !== null) {
    tuple[13] = delta.changed;
    tuple[16] = delta.absent;
  }
  if (diffIsDerivable(m.diff, m.before, m.after)) tuple[14] = null;
  return tuple;
}

/**
 * The applied and skipped mutations of each capture as rows of capture_mutation_documents: a
 * chunk of at most `perDocument` tuples, as JSON text PostgreSQL stores without parsing into
 * jsonb (migration 0006).
 */
function mutationDocumentRows(batch: readonly CaptureRows[], perDocument: number): Insertable<CaptureMutationDocumentsTable>[] {
  const rows: Insertable<CaptureMutationDocumentsTable>[] = [];
  for (const { request, mutations: all } of batch) {
    const mutations = all.filter((m) => !isSearched(m));
    for (let i = 0; i < mutations.length; i += perDocument) {
      const take = mutations.slice(i, i + perDocument);
      rows.push({
        capture_id: request.id,
        first_idx: take[0]!.idx,
        started_at: request.started_at,
        user_id: request.user_id,
        client_id: request.client_id ?? null,
        mutations: jsonbText(take.map(documentTuple)),
      });
    }
  }
  return rows;
}

/**
 * The batch's rejected and conflicted mutations as jsonb documents of at most `perDocument` rows each:
 * `[[captureId, startedAt, userId, clientId, [mutation tuple…]], …]`. Positions instead of
 * keys, and the capture's fields once instead of on every row, halve what PostgreSQL parses.
 */
function searchedMutationDocuments(batch: readonly CaptureRows[], perDocument: number): string[] {
  const documents: string[] = [];
  let captures: unknown[] = [];
  let rows = 0;
  const close = () => {
    if (captures.length > 0) documents.push(jsonbText(captures));
    captures = [];
    rows = 0;
  };
  for (const { request, mutations: all } of batch) {
    const mutations = all.filter(isSearched);
    for (let i = 0; i < mutations.length;) {
      const take = mutations.slice(i, i + (perDocument - rows));
      captures.push([request.id, request.started_at, request.user_id, request.client_id ?? null, take.map(mutationTuple)]);
      rows += take.length;
      i += take.length;
      if (rows >= perDocument) close();
    }
  }
  close();
  return documents;
}

/** One statement, one parameter: a document of `searchedMutationDocuments`, unpacked by the server. */
async function insertMutations(db: Kysely<DB>, document: string): Promise<void> {
  await sql`
    insert into capture_mutations (capture_id, idx, started_at, user_id, client_id, request_id, entity_type,
      entity_id, client_entity_id, change_type, outcome, reason, reason_code, reason_detail, conflict_id,
      payload, before, after, diff, duration_ms)
    select (c->>0)::uuid, (m->>0)::integer, (c->>1)::timestamptz, c->>2, c->>3, m->>1, m->>2,
      m->>3, m->>4, m->>5, m->>6, m->>7, m->>8, nullif(m->9, 'null'::jsonb), (m->>10)::uuid,
      m->11, nullif(m->12, 'null'::jsonb), nullif(m->13, 'null'::jsonb), m->14, (m->>15)::double precision
    from jsonb_array_elements(${document}::jsonb) as c, jsonb_array_elements(c->4) as m`.execute(db);
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
