import { sql, type Kysely } from 'kysely';

/*
 * Captured bodies and mutation documents are only ever read whole (a request's detail, one
 * capture's mutations), never searched inside. As jsonb, PostgreSQL built a binary tree of
 * every value of every captured push on the way in — tens of values per change, a large part
 * of what capture cost a push. As json they are checked once and stored as the text they
 * are, which also keeps the keys in the order they were sent. The view casts a document to
 * jsonb when it is read, one capture at a time.
 *
 * A document's tuples also got shorter (capture-store.ts documentTuple): an applied change's
 * `after` is stored as what it adds to its payload (tuple position 16 marks it), and a
 * CREATE's diff, every field the new state has, as null — the reader derives it. The view
 * rebuilds `after`; documents written before keep their whole states and read the same.
 *
 * Changing a column's type rewrites the table: this takes as long as the stored captures
 * take to copy (they are pruned after CAPTURE_RETENTION_HOURS).
 */

const LZ4 = sql`do $$ begin
  if exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
    alter table capture_requests alter column request set compression lz4,
                                 alter column response set compression lz4;
    alter table capture_mutation_documents alter column mutations set compression lz4;
  end if;
end $$`;

/**
 * A document's `after`: whole at position 13, or (when position 16 is there) only what it
 * adds to the payload at 11, position 16 naming the payload's fields it does not have.
 */
const AFTER = sql`case when m->16 is null then nullif(m->13, 'null'::jsonb)
  else ((m->11) - array(select jsonb_array_elements_text(m->16))) || (m->13) end`;

/** 0005's view, or (`delta`) one that also rebuilds a document's `after` from its payload. */
const viewOver = (mutations: string, delta: boolean) => sql`
  create view captured_mutations as
    select capture_id, idx, started_at, user_id, client_id, request_id, entity_type, entity_id,
           client_entity_id, change_type, outcome, reason, reason_code, reason_detail, conflict_id,
           payload, before, after, diff, duration_ms
    from capture_mutations
    union all
    select d.capture_id, (m->>0)::integer, d.started_at, d.user_id, d.client_id, m->>1, m->>2,
           m->>3, m->>4, m->>5, m->>6, m->>7, m->>8, nullif(m->9, 'null'::jsonb), (m->>10)::uuid,
           m->11, nullif(m->12, 'null'::jsonb), ${delta ? AFTER : sql`nullif(m->13, 'null'::jsonb)`}, m->14,
           (m->>15)::double precision
    from capture_mutation_documents d, jsonb_array_elements(${sql.raw(mutations)}) as m`;

/** The captured bodies and documents as `type` (a rewrite), their lz4 setting kept, and the view over them. */
async function storeAs(db: Kysely<unknown>, type: 'json' | 'jsonb'): Promise<void> {
  const as = sql.raw(type);
  await sql`drop view captured_mutations`.execute(db);
  await sql`alter table capture_requests alter column request type ${as} using request::${as},
    alter column response type ${as} using response::${as}`.execute(db);
  await sql`alter table capture_mutation_documents alter column mutations type ${as} using mutations::${as}`.execute(db);
  await LZ4.execute(db);
  await (type === 'json' ? viewOver('d.mutations::jsonb', true) : viewOver('d.mutations', false)).execute(db);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await storeAs(db, 'json');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await storeAs(db, 'jsonb');
}
