import { sql, type Kysely } from 'kysely';

/*
 * One row per captured mutation cost a push about a tenth of its throughput (row headers,
 * primary-key entries and WAL records for every change, measured with empty payloads), so
 * the mutations a view never searches for — applied and skipped ones — are stored as one
 * document of positional tuples per capture and chunk. Rejected and conflicted mutations
 * keep a row of their own in capture_mutations: the failure and conflict views index them.
 * `captured_mutations` shows both as rows of capture_mutations' shape; a query filtered by
 * capture_id reaches each side through its own index.
 *
 * Tuple positions (as capture-store writes them): 0 idx, 1 request_id, 2 entity_type,
 * 3 entity_id, 4 client_entity_id, 5 change_type, 6 outcome, 7 reason, 8 reason_code,
 * 9 reason_detail, 10 conflict_id, 11 payload, 12 before, 13 after, 14 diff, 15 duration_ms.
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('capture_mutation_documents')
    .addColumn('capture_id', 'uuid', (c) => c.notNull().references('capture_requests.id').onDelete('cascade'))
    .addColumn('first_idx', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('mutations', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('capture_mutation_documents_pkey', ['capture_id', 'first_idx'])
    .execute();
  await sql`do $$ begin
    if exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
      alter table capture_mutation_documents alter column mutations set compression lz4;
    end if;
  end $$`.execute(db);

  await sql`
    create view captured_mutations as
      select capture_id, idx, started_at, user_id, client_id, request_id, entity_type, entity_id,
             client_entity_id, change_type, outcome, reason, reason_code, reason_detail, conflict_id,
             payload, before, after, diff, duration_ms
      from capture_mutations
      union all
      select d.capture_id, (m->>0)::integer, d.started_at, d.user_id, d.client_id, m->>1, m->>2,
             m->>3, m->>4, m->>5, m->>6, m->>7, m->>8, nullif(m->9, 'null'::jsonb), (m->>10)::uuid,
             m->11, nullif(m->12, 'null'::jsonb), nullif(m->13, 'null'::jsonb), m->14,
             (m->>15)::double precision
      from capture_mutation_documents d, jsonb_array_elements(d.mutations) as m`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop view if exists captured_mutations`.execute(db);
  await db.schema.dropTable('capture_mutation_documents').ifExists().execute();
}
