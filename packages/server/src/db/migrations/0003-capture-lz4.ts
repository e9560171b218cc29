import { sql, type Kysely } from 'kysely';

/*
 * A captured push stores its request and answer as jsonb of tens of KiB, which PostgreSQL
 * compresses when it moves them out of line. Its default, pglz, was most of the database's
 * cost of writing a capture (about two thirds of an INSERT of such rows, measured); lz4 does
 * the same several times faster and compresses these bodies better. Only new values use it.
 * A server built without lz4 (and PGlite) keeps pglz: the check keeps the migration portable.
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`do $$ begin
    if exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
      alter table capture_requests alter column request set compression lz4,
                                   alter column response set compression lz4;
    end if;
  end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table capture_requests alter column request set compression default,
                                         alter column response set compression default`.execute(db);
}
