import { sql, type Kysely } from 'kysely';

/*
 * The initial schema. A committed migration never changes: later schema changes are new
 * files. That is why the entity columns are spelled out here rather than generated from
 * ENTITY_REGISTRY (a registry edit must come with a migration; the conformance test in
 * test/db fails until it does).
 *
 * No FOREIGN KEY constraints between entity tables: the server resolves foreign keys
 * itself (client ids, tombstones that keep their rows, catalog products of another user).
 */

const now = sql`now()`;
const emptyArray = sql`'[]'::jsonb`;
const emptyObject = sql`'{}'::jsonb`;

/** The server-managed columns every entity table starts with. */
function entityTable(db: Kysely<unknown>, table: string) {
  return db.schema
    .createTable(table)
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('deleted_at', 'timestamptz');
}

/** The user-scoped lookup index every entity table gets: batch loads and full scans of one user. */
async function userIndex(db: Kysely<unknown>, table: string): Promise<void> {
  await db.schema.createIndex(`${table}_user_id_id_idx`).on(table).columns(['user_id', 'id']).execute();
}

/** An index per foreign-key column, scoped by user: "the children of X" lookups. */
async function refIndex(db: Kysely<unknown>, table: string, column: string): Promise<void> {
  await db.schema
    .createIndex(`${table}_user_id_${column}_idx`)
    .on(table)
    .columns(['user_id', column])
    .execute();
}

async function createEntityTables(db: Kysely<unknown>): Promise<void> {
  await entityTable(db, 'products')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('effects', 'jsonb', (c) => c.notNull().defaultTo(emptyArray))
    .addColumn('is_public', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await userIndex(db, 'products');
  // The public catalog is a small subset of all products.
  await db.schema
    .createIndex('products_is_public_idx')
    .on('products')
    .column('is_public')
    .where(sql.ref('is_public'), '=', true)
    .execute();

  await entityTable(db, 'devices')
    .addColumn('device_name', 'text')
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(emptyObject))
    .addColumn('mac_address', 'text')
    .addColumn('serial_number', 'text')
    .addColumn('firmware_version', 'text')
    .execute();
  await userIndex(db, 'devices');
  // A CREATE whose macAddress matches a live device maps to it. Not unique: an UPDATE may
  // legitimately give two devices one address, and a unique violation would fail a batch.
  await db.schema
    .createIndex('devices_user_id_mac_address_idx')
    .on('devices')
    .columns(['user_id', 'mac_address'])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  await entityTable(db, 'sessions')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('ACTIVE'))
    .addColumn('notes', 'text')
    .addColumn('product_id', 'uuid')
    .addColumn('device_id', 'uuid')
    .addColumn('event_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('session_start_timestamp', 'timestamptz')
    .addColumn('session_end_timestamp', 'timestamptz')
    .addColumn('total_duration_ms', 'double precision', (c) => c.notNull().defaultTo(0))
    .execute();
  await userIndex(db, 'sessions');
  await refIndex(db, 'sessions', 'product_id');
  await refIndex(db, 'sessions', 'device_id');

  await entityTable(db, 'consumptions')
    .addColumn('timestamp', 'timestamptz', (c) => c.notNull())
    .addColumn('intensity', 'integer')
    .addColumn('quantity', 'double precision')
    .addColumn('notes', 'text')
    .addColumn('session_id', 'uuid')
    .addColumn('product_id', 'uuid')
    .execute();
  await userIndex(db, 'consumptions');
  // Session aggregates (eventCount, start/end, duration) are recomputed from this.
  await refIndex(db, 'consumptions', 'session_id');
  await refIndex(db, 'consumptions', 'product_id');

  await entityTable(db, 'journal_entries')
    .addColumn('content', 'text')
    .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(emptyArray))
    .addColumn('symptoms', 'jsonb', (c) => c.notNull().defaultTo(emptyArray))
    .addColumn('reactions', 'jsonb', (c) => c.notNull().defaultTo(emptyObject))
    .addColumn('session_id', 'uuid')
    .addColumn('consumption_id', 'uuid')
    .addColumn('product_id', 'uuid')
    .execute();
  await userIndex(db, 'journal_entries');
  await refIndex(db, 'journal_entries', 'session_id');
  await refIndex(db, 'journal_entries', 'consumption_id');
  await refIndex(db, 'journal_entries', 'product_id');

  await entityTable(db, 'purchases')
    .addColumn('quantity_purchased', 'double precision')
    .addColumn('price', 'double precision')
    .addColumn('purchased_at', 'timestamptz')
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('product_id', 'uuid', (c) => c.notNull())
    .execute();
  await userIndex(db, 'purchases');
  await refIndex(db, 'purchases', 'product_id');

  await entityTable(db, 'inventory_items')
    .addColumn('quantity_remaining', 'double precision')
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('product_id', 'uuid', (c) => c.notNull())
    .execute();
  await userIndex(db, 'inventory_items');
  await refIndex(db, 'inventory_items', 'product_id');

  await entityTable(db, 'goals')
    .addColumn('name', 'text')
    .addColumn('target_value', 'double precision')
    .addColumn('current_value', 'double precision')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('ACTIVE'))
    .execute();
  await userIndex(db, 'goals');

  await entityTable(db, 'ai_usage_records')
    .addColumn('model', 'text')
    .addColumn('input_tokens', 'integer')
    .addColumn('output_tokens', 'integer')
    .addColumn('total_cost', 'double precision')
    .addColumn('timestamp', 'timestamptz')
    .execute();
  await userIndex(db, 'ai_usage_records');
}

async function createSyncTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sync_operations')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('sync_operation_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('request_fingerprint', 'text', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('result_payload', 'jsonb')
    .addColumn('lock_token', 'bigint')
    .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('completed_at', 'timestamptz')
    .addPrimaryKeyConstraint('sync_operations_pkey', ['user_id', 'sync_operation_id'])
    .addCheckConstraint('sync_operations_status_check', sql`status in ('IN_PROGRESS', 'COMPLETED', 'FAILED')`)
    .execute();
  // Recovery of operations left IN_PROGRESS by a crashed worker scans only these.
  await db.schema
    .createIndex('sync_operations_in_progress_idx')
    .on('sync_operations')
    .column('heartbeat_at')
    .where(sql.ref('status'), '=', 'IN_PROGRESS')
    .execute();

  await db.schema
    .createTable('sync_changes')
    .addColumn('seq', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('xid', sql`xid8`, (c) => c.notNull().defaultTo(sql`pg_current_xact_id()`))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'uuid', (c) => c.notNull())
    .addColumn('change_type', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('origin_device_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('sync_operation_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addCheckConstraint('sync_changes_change_type_check', sql`change_type in ('CREATE', 'UPDATE', 'DELETE')`)
    .execute();
  // Pulls read WHERE user_id = ? AND (xid, seq) > (?, ?) [AND entity_type = ?] ORDER BY xid, seq.
  await db.schema
    .createIndex('sync_changes_user_id_xid_seq_idx')
    .on('sync_changes')
    .columns(['user_id', 'xid', 'seq'])
    .execute();
  await db.schema
    .createIndex('sync_changes_user_id_entity_type_xid_seq_idx')
    .on('sync_changes')
    .columns(['user_id', 'entity_type', 'xid', 'seq'])
    .execute();

  await db.schema
    .createTable('sync_applied_requests')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('server_id', 'uuid')
    .addColumn('change_type', 'text', (c) => c.notNull())
    .addColumn('version', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('sync_applied_requests_pkey', ['user_id', 'device_id', 'request_id'])
    .execute();

  await db.schema
    .createTable('id_mappings')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('server_id', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('id_mappings_pkey', ['user_id', 'entity_type', 'client_id'])
    .execute();
  // Not unique: several client ids may name one server entity (devices matched by macAddress).
  await db.schema
    .createIndex('id_mappings_user_id_entity_type_server_id_idx')
    .on('id_mappings')
    .columns(['user_id', 'entity_type', 'server_id'])
    .execute();

  await db.schema
    .createTable('sync_conflicts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'uuid', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('sync_operation_id', 'text', (c) => c.notNull())
    .addColumn('strategy', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('resolution', 'text')
    .addColumn('client_version', 'integer', (c) => c.notNull())
    .addColumn('server_version', 'integer', (c) => c.notNull())
    .addColumn('client_data', 'jsonb', (c) => c.notNull())
    .addColumn('server_data', 'jsonb', (c) => c.notNull())
    .addColumn('resolved_data', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('resolved_at', 'timestamptz')
    .addCheckConstraint('sync_conflicts_status_check', sql`status in ('PENDING', 'RESOLVED')`)
    .execute();
  // GET /conflicts?status=… pages by (created_at, id); the count of pending ones feeds /status.
  await db.schema
    .createIndex('sync_conflicts_user_id_status_created_at_id_idx')
    .on('sync_conflicts')
    .columns(['user_id', 'status', 'created_at', 'id'])
    .execute();
  // The same listing without a status filter.
  await db.schema
    .createIndex('sync_conflicts_user_id_created_at_id_idx')
    .on('sync_conflicts')
    .columns(['user_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('sync_states')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('lock_owner', 'text')
    .addColumn('lock_expires_at', 'timestamptz')
    .addColumn('fencing_token', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_sync_at', 'timestamptz')
    .addColumn('cursor_positions', 'jsonb', (c) => c.notNull().defaultTo(emptyObject))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('sync_states_pkey', ['user_id', 'device_id'])
    .execute();

  await db.schema
    .createTable('outbox_events')
    .addColumn('id', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('user_id', 'text')
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('PENDING'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('delivered_at', 'timestamptz')
    .addCheckConstraint('outbox_events_status_check', sql`status in ('PENDING', 'DELIVERED', 'DEAD_LETTER')`)
    .execute();
  // The delivery worker polls PENDING events due now; /health counts DEAD_LETTER ones.
  await db.schema
    .createIndex('outbox_events_status_next_attempt_at_idx')
    .on('outbox_events')
    .columns(['status', 'next_attempt_at'])
    .execute();
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await createEntityTables(db);
  await createSyncTables(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const tables = [
    'outbox_events',
    'sync_states',
    'sync_conflicts',
    'id_mappings',
    'sync_applied_requests',
    'sync_changes',
    'sync_operations',
    'ai_usage_records',
    'goals',
    'inventory_items',
    'purchases',
    'journal_entries',
    'consumptions',
    'sessions',
    'devices',
    'products',
  ];
  for (const table of tables) await db.schema.dropTable(table).ifExists().execute();
}
