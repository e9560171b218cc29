import { sql, type Kysely } from 'kysely';

/*
 * Capture of sync requests for the dashboard (CONTRACT §9). Written off the hot path in
 * batches; pruned after CAPTURE_RETENTION_HOURS. Indexes serve the dashboard's list filters
 * (newest first) and the time windows of its metrics.
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('capture_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('sync_operation_id', 'text')
    .addColumn('replay_of', 'uuid')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('route', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('duration_ms', 'double precision', (c) => c.notNull())
    .addColumn('http_status', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('mutation_count', 'integer', (c) => c.notNull())
    .addColumn('conflict_count', 'integer', (c) => c.notNull())
    .addColumn('failure_count', 'integer', (c) => c.notNull())
    .addColumn('snapshot_count', 'integer', (c) => c.notNull())
    .addColumn('request', 'jsonb', (c) => c.notNull())
    .addColumn('response', 'jsonb', (c) => c.notNull())
    .addCheckConstraint('capture_requests_kind_check', sql`kind in ('push', 'pull', 'full')`)
    .addCheckConstraint('capture_requests_outcome_check', sql`outcome in ('success', 'partial', 'failed')`)
    .execute();
  // The time window of every metric, the unfiltered list (newest first) and retention. The
  // included columns let the metrics aggregate from the index alone.
  await sql`create index capture_requests_started_at_idx on capture_requests (started_at, id)
    include (kind, outcome, duration_ms, mutation_count, conflict_count, client_id)`.execute(db);
  // One per list filter, each ordered like the list.
  for (const column of ['kind', 'outcome', 'client_id', 'user_id']) {
    await db.schema
      .createIndex(`capture_requests_${column}_started_at_idx`)
      .on('capture_requests')
      .columns([column, 'started_at', 'id'])
      .execute();
  }
  await db.schema
    .createIndex('capture_requests_replay_of_idx')
    .on('capture_requests')
    .column('replay_of')
    .where(sql.ref('replay_of'), 'is not', null)
    .execute();

  await db.schema
    .createTable('capture_mutations')
    .addColumn('capture_id', 'uuid', (c) => c.notNull().references('capture_requests.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    // Copied from the request so the failure views filter and group without a join.
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text')
    .addColumn('client_entity_id', 'text', (c) => c.notNull())
    .addColumn('change_type', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('reason_code', 'text')
    .addColumn('reason_detail', 'jsonb')
    .addColumn('conflict_id', 'uuid')
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('diff', 'jsonb', (c) => c.notNull())
    .addColumn('duration_ms', 'double precision')
    .addPrimaryKeyConstraint('capture_mutations_pkey', ['capture_id', 'idx'])
    .addCheckConstraint(
      'capture_mutations_outcome_check',
      sql`outcome in ('applied', 'rejected', 'conflict', 'skipped')`,
    )
    .execute();
  // The failures list (newest first) and its groups / filters.
  await sql`create index capture_mutations_failures_idx on capture_mutations (started_at, capture_id, idx)
    where outcome = 'rejected'`.execute(db);
  await sql`create index capture_mutations_failure_groups_idx
    on capture_mutations (entity_type, client_id, reason_code, started_at) where outcome = 'rejected'`.execute(db);
  // Links a conflict of sync_conflicts to the capture that saw it.
  await sql`create index capture_mutations_conflict_id_idx on capture_mutations (conflict_id)
    where conflict_id is not null`.execute(db);

  // Mutations per model and five-minute bucket, so "top models" never scans mutations.
  await db.schema
    .createTable('capture_model_stats')
    .addColumn('bucket_start', 'timestamptz', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('mutations', 'bigint', (c) => c.notNull())
    .addColumn('conflicts', 'bigint', (c) => c.notNull())
    .addColumn('failures', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('capture_model_stats_pkey', ['bucket_start', 'entity_type'])
    .execute();

  // The dashboard lists every user's conflicts, newest first, by model and client.
  await db.schema
    .createIndex('sync_conflicts_created_at_id_idx')
    .on('sync_conflicts')
    .columns(['created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('sync_conflicts_entity_type_device_id_created_at_idx')
    .on('sync_conflicts')
    .columns(['entity_type', 'device_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sync_conflicts_entity_type_device_id_created_at_idx').ifExists().execute();
  await db.schema.dropIndex('sync_conflicts_created_at_id_idx').ifExists().execute();
  await db.schema.dropTable('capture_model_stats').ifExists().execute();
  await db.schema.dropTable('capture_mutations').ifExists().execute();
  await db.schema.dropTable('capture_requests').ifExists().execute();
}
