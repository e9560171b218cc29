import type { ColumnType, Generated, GeneratedAlways } from 'kysely';
import type { EntityType, GOAL_STATUSES, SESSION_STATUSES } from '@sync-engine/shared';

/*
 * Kysely table types for every table the migrations create. Column names are snake_case;
 * the entity tables mirror ENTITY_REGISTRY (a conformance test keeps migrations, these
 * types and the registry in step).
 *
 * Read types are what both drivers return after normalisation (see type-parsers.ts):
 * timestamptz → Date, int8/bigint/xid8 → decimal string, double/numeric → number,
 * jsonb → the parsed value. jsonb is written as JSON text (`toJsonb` in jsonb.ts), because
 * node-postgres would send a JS array as a PostgreSQL array literal, not as JSON.
 */

/** timestamptz without a default: read as Date, written as Date or an ISO-8601 string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** timestamptz with a default (usually `now()`): optional on insert. */
export type TimestampWithDefault = ColumnType<Date, Date | string | undefined, Date | string>;
/** Nullable timestamptz. */
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** jsonb without a default: read as the parsed value, written as JSON text. */
export type Jsonb<T> = ColumnType<T, string, string>;
/** jsonb with a default: optional on insert. */
export type JsonbWithDefault<T> = ColumnType<T, string | undefined, string>;
/** Nullable jsonb. */
export type NullableJsonb<T> = ColumnType<T | null, string | null | undefined, string | null>;

/** int8/bigint: read as a decimal string on both drivers; accepts any integer form on write. */
export type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
export type NullableInt8 = ColumnType<
  string | null,
  string | number | bigint | null | undefined,
  string | number | bigint | null
>;
export type Int8WithDefault = ColumnType<string, string | number | bigint | undefined, string | number | bigint>;

export type SyncChangeType = 'CREATE' | 'UPDATE' | 'DELETE';
export type JsonObject = Record<string, unknown>;

export const SYNC_OPERATION_STATUSES = ['IN_PROGRESS', 'COMPLETED', 'FAILED'] as const;
export type SyncOperationStatus = (typeof SYNC_OPERATION_STATUSES)[number];

export const SYNC_CONFLICT_STATUSES = ['PENDING', 'RESOLVED'] as const;
export type SyncConflictStatus = (typeof SYNC_CONFLICT_STATUSES)[number];

export const OUTBOX_EVENT_STATUSES = ['PENDING', 'DELIVERED', 'DEAD_LETTER'] as const;
export type OutboxEventStatus = (typeof OUTBOX_EVENT_STATUSES)[number];

// ---------------------------------------------------------------------------------------
// Entity tables: server-managed columns shared by all, then one column per registry field.
// `id` is the server id, chosen by the server before the write (no default on purpose).

export interface EntityTableBase {
  id: string;
  user_id: string;
  version: Generated<number>;
  created_at: TimestampWithDefault;
  updated_at: TimestampWithDefault;
  deleted_at: NullableTimestamp;
}

export interface ProductsTable extends EntityTableBase {
  name: string;
  description: string | null;
  effects: JsonbWithDefault<string[]>;
  is_public: Generated<boolean>;
}

export interface DevicesTable extends EntityTableBase {
  device_name: string | null;
  settings: JsonbWithDefault<JsonObject>;
  mac_address: string | null;
  serial_number: string | null;
  firmware_version: string | null;
}

export interface SessionsTable extends EntityTableBase {
  status: Generated<(typeof SESSION_STATUSES)[number]>;
  notes: string | null;
  product_id: string | null;
  device_id: string | null;
  event_count: Generated<number>;
  session_start_timestamp: NullableTimestamp;
  session_end_timestamp: NullableTimestamp;
  total_duration_ms: Generated<number>;
}

export interface ConsumptionsTable extends EntityTableBase {
  timestamp: Timestamp;
  intensity: number | null;
  quantity: number | null;
  notes: string | null;
  session_id: string | null;
  product_id: string | null;
}

export interface JournalEntriesTable extends EntityTableBase {
  content: string | null;
  tags: JsonbWithDefault<string[]>;
  symptoms: JsonbWithDefault<string[]>;
  reactions: JsonbWithDefault<JsonObject>;
  session_id: string | null;
  consumption_id: string | null;
  product_id: string | null;
}

export interface PurchasesTable extends EntityTableBase {
  quantity_purchased: number | null;
  price: number | null;
  purchased_at: NullableTimestamp;
  is_active: Generated<boolean>;
  product_id: string;
}

export interface InventoryItemsTable extends EntityTableBase {
  quantity_remaining: number | null;
  is_active: Generated<boolean>;
  product_id: string;
}

export interface GoalsTable extends EntityTableBase {
  name: string | null;
  target_value: number | null;
  current_value: number | null;
  status: Generated<(typeof GOAL_STATUSES)[number]>;
}

export interface AiUsageRecordsTable extends EntityTableBase {
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_cost: number | null;
  timestamp: NullableTimestamp;
}

/** Entity type → its table type; every EntityType has exactly one table of that name. */
export interface EntityTables {
  products: ProductsTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  consumptions: ConsumptionsTable;
  journal_entries: JournalEntriesTable;
  purchases: PurchasesTable;
  inventory_items: InventoryItemsTable;
  goals: GoalsTable;
  ai_usage_records: AiUsageRecordsTable;
}

// ---------------------------------------------------------------------------------------
// Sync bookkeeping tables.

/** One push/full-sync request per (user, syncOperationId): the idempotency claim and its stored answer. */
export interface SyncOperationsTable {
  user_id: string;
  sync_operation_id: string;
  device_id: string;
  status: SyncOperationStatus;
  request_fingerprint: string;
  http_status: number | null;
  result_payload: NullableJsonb<unknown>;
  lock_token: NullableInt8;
  heartbeat_at: TimestampWithDefault;
  created_at: TimestampWithDefault;
  updated_at: TimestampWithDefault;
  completed_at: NullableTimestamp;
}

/**
 * The change log pulls read. Rows are ordered by (xid, seq); a pull only hands out rows
 * with `xid < pg_snapshot_xmin(pg_current_snapshot())`, so a cursor never passes a change
 * whose transaction has not committed yet.
 */
export interface SyncChangesTable {
  seq: GeneratedAlways<string>;
  xid: GeneratedAlways<string>;
  user_id: string;
  entity_type: EntityType;
  entity_id: string;
  change_type: SyncChangeType;
  version: number;
  /** null: the server made the change on its own (derived fields, merges). */
  origin_device_id: string | null;
  request_id: string | null;
  sync_operation_id: string | null;
  created_at: TimestampWithDefault;
}

/** requestIds already applied per user+device, so a replayed change is reported DUPLICATE. */
export interface SyncAppliedRequestsTable {
  user_id: string;
  device_id: string;
  request_id: string;
  entity_type: EntityType;
  /** null when the change touched no entity (a DELETE of a missing one, SKIPPED). */
  server_id: string | null;
  change_type: SyncChangeType;
  version: number | null;
  created_at: TimestampWithDefault;
}

/** Client id → server id per user and entity type, kept forever. */
export interface IdMappingsTable {
  user_id: string;
  entity_type: EntityType;
  client_id: string;
  server_id: string;
  created_at: TimestampWithDefault;
}

export interface SyncConflictsTable {
  id: Generated<string>;
  user_id: string;
  entity_type: EntityType;
  entity_id: string;
  client_id: string;
  request_id: string;
  device_id: string;
  sync_operation_id: string;
  strategy: string;
  outcome: string;
  status: SyncConflictStatus;
  resolution: string | null;
  client_version: number;
  server_version: number;
  client_data: Jsonb<JsonObject>;
  server_data: Jsonb<JsonObject>;
  resolved_data: NullableJsonb<JsonObject>;
  created_at: TimestampWithDefault;
  resolved_at: NullableTimestamp;
}

/** Per user+device: the sync lock (with fencing token), last sync time and pull positions. */
export interface SyncStatesTable {
  user_id: string;
  device_id: string;
  lock_owner: string | null;
  lock_expires_at: NullableTimestamp;
  /** Grows on every lock grant; a writer holding an older token has lost the lock. */
  fencing_token: Int8WithDefault;
  last_sync_at: NullableTimestamp;
  cursor_positions: JsonbWithDefault<Record<string, string | null>>;
  updated_at: TimestampWithDefault;
}

/** Transactional outbox of domain events, delivered with retries; DEAD_LETTER after the last. */
export interface OutboxEventsTable {
  id: GeneratedAlways<string>;
  user_id: string | null;
  event_type: string;
  payload: Jsonb<unknown>;
  status: Generated<OutboxEventStatus>;
  attempts: Generated<number>;
  next_attempt_at: TimestampWithDefault;
  last_error: string | null;
  created_at: TimestampWithDefault;
  delivered_at: NullableTimestamp;
}

// ---------------------------------------------------------------------------------------
// Capture of sync requests for the dashboard (0002-capture).

export type CaptureKind = 'push' | 'pull' | 'full';
export type CaptureOutcome = 'success' | 'partial' | 'failed';
export type CaptureMutationOutcome = 'applied' | 'rejected' | 'conflict' | 'skipped';

/** One captured push, pull or full sync; request and response are stored redacted. */
export interface CaptureRequestsTable {
  id: string;
  kind: CaptureKind;
  user_id: string;
  /** The request's deviceId. */
  client_id: string | null;
  correlation_id: string;
  sync_operation_id: string | null;
  /** The capture this one replays (a dashboard replay). */
  replay_of: string | null;
  method: string;
  /** The route pattern, e.g. `/api/v1/sync/push`. */
  route: string;
  started_at: Timestamp;
  duration_ms: number;
  http_status: number;
  outcome: CaptureOutcome;
  /** The envelope's error code of a non-2xx answer. */
  error_code: string | null;
  mutation_count: number;
  conflict_count: number;
  failure_count: number;
  snapshot_count: number;
  /** json, not jsonb: stored as sent, read whole (migration 0006). */
  request: Jsonb<unknown>;
  response: Jsonb<unknown>;
}

/** One change of a captured push: payload, outcome, state before and after, field diff (redacted). */
export interface CaptureMutationsTable {
  capture_id: string;
  /** Position of the change in the push's `changes`. */
  idx: number;
  started_at: Timestamp;
  user_id: string;
  client_id: string | null;
  request_id: string;
  entity_type: EntityType;
  /** The server id, when the change named or created an entity. */
  entity_id: string | null;
  client_entity_id: string;
  change_type: SyncChangeType;
  outcome: CaptureMutationOutcome;
  reason: string | null;
  reason_code: string | null;
  reason_detail: NullableJsonb<unknown>;
  conflict_id: string | null;
  payload: Jsonb<unknown>;
  before: NullableJsonb<JsonObject>;
  after: NullableJsonb<JsonObject>;
  /** Changed field names (see capture/stored-diff.ts); rows of older versions hold whole entries. */
  diff: Jsonb<(string | { field: string; before: unknown; after: unknown })[]>;
  duration_ms: number | null;
}

/** Captured mutations per model and five-minute bucket (the dashboard's top models). */
export interface CaptureModelStatsTable {
  bucket_start: Timestamp;
  entity_type: EntityType;
  mutations: Int8;
  conflicts: Int8;
  failures: Int8;
}

/** Captured requests per 5-second slot (migration 0004; kept by triggers on capture_requests). */
export interface CaptureRequestSlotsTable {
  slot_start: Timestamp;
  requests: Int8;
  push_requests: Int8;
  pull_requests: Int8;
  full_requests: Int8;
  mutations: Int8;
  conflicted: Int8;
  failed: Int8;
  duration_ms_sum: number;
}

/** Captured requests per 5-minute slot and log-scale duration bin (migration 0004). */
export interface CaptureLatencyBinsTable {
  slot_start: Timestamp;
  bin: number;
  requests: Int8;
}

/** Captured requests and mutations per client and hour (migration 0004). */
export interface CaptureClientHoursTable {
  client_id: string;
  hour_start: Timestamp;
  requests: Int8;
  mutations: Int8;
}

/** Captured requests and mutations per client and day (migration 0004). */
export interface CaptureClientDaysTable {
  day_start: Timestamp;
  client_id: string;
  requests: Int8;
  mutations: Int8;
}

/** Applied and skipped mutations of a capture, one json document of positional tuples per chunk (migrations 0005, 0006). */
export interface CaptureMutationDocumentsTable {
  capture_id: string;
  first_idx: number;
  started_at: Timestamp;
  user_id: string;
  client_id: string | null;
  mutations: Jsonb<unknown[]>;
}

/** The whole database, as Kysely sees it. */
export interface DB extends EntityTables {
  sync_operations: SyncOperationsTable;
  sync_changes: SyncChangesTable;
  sync_applied_requests: SyncAppliedRequestsTable;
  id_mappings: IdMappingsTable;
  sync_conflicts: SyncConflictsTable;
  sync_states: SyncStatesTable;
  outbox_events: OutboxEventsTable;
  capture_requests: CaptureRequestsTable;
  capture_mutations: CaptureMutationsTable;
  capture_mutation_documents: CaptureMutationDocumentsTable;
  /** View (migration 0005): capture_mutations and the documents' tuples, as rows. */
  captured_mutations: CaptureMutationsTable;
  capture_model_stats: CaptureModelStatsTable;
  capture_request_slots: CaptureRequestSlotsTable;
  capture_latency_bins: CaptureLatencyBinsTable;
  capture_client_hours: CaptureClientHoursTable;
  capture_client_days: CaptureClientDaysTable;
}
