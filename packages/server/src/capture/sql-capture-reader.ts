import { sql, type Kysely, type Selectable } from 'kysely';
import type { CaptureReader, MetricsWindow } from '@sync-engine/dashboard';
import {
  isPlainObject,
  type CapturedMutation,
  type CapturedMutationList,
  type CapturedRequestDetail,
  type CapturedRequestList,
  type CapturedRequestListQuery,
  type CapturedRequestSummary,
  type ConflictPatterns,
  type DashboardConflict,
  type DashboardConflictList,
  type DashboardConflictListQuery,
  type DashboardFailure,
  type DashboardFailureList,
  type DashboardFailureListQuery,
  type DashboardMetrics,
  type DashboardPageQuery,
  type EntityType,
  type ErrorDetail,
  type FailureGroups,
  type Redactor,
} from '@sync-engine/shared';
import type { CaptureMutationsTable, CaptureRequestsTable, DB } from '../db/schema.ts';
import { describeReason } from './capture-rows.ts';
import { diffOfStored } from './stored-diff.ts';
import { readTelemetry } from './telemetry-reader.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Rows of the pattern and group lists. */
const MAX_GROUPS = 100;

const SUMMARY_COLUMNS = [
  'id',
  'kind',
  'user_id',
  'client_id',
  'started_at',
  'duration_ms',
  'http_status',
  'outcome',
  'mutation_count',
  'conflict_count',
  'failure_count',
  'snapshot_count',
  'replay_of',
] as const;

type SummaryRow = Pick<Selectable<CaptureRequestsTable>, (typeof SUMMARY_COLUMNS)[number]>;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const iso = (d: Date): string => d.toISOString();
const offset = (q: DashboardPageQuery) => (q.page - 1) * q.perPage;

function toSummary(row: SummaryRow): CapturedRequestSummary {
  return {
    id: row.id,
    kind: row.kind,
    userId: row.user_id,
    clientId: row.client_id,
    startedAt: iso(row.started_at),
    durationMs: row.duration_ms,
    httpStatus: row.http_status,
    outcome: row.outcome,
    mutationCount: row.mutation_count,
    conflictCount: row.conflict_count,
    failureCount: row.failure_count,
    snapshotCount: row.snapshot_count,
    replayOf: row.replay_of,
  };
}

function toMutation(row: Selectable<CaptureMutationsTable>, redactor: Redactor): CapturedMutation {
  return {
    index: row.idx,
    requestId: row.request_id,
    entityType: row.entity_type,
    entityId: row.entity_id,
    changeType: row.change_type,
    payload: row.payload,
    outcome: row.outcome,
    reason: row.reason,
    before: row.before,
    after: row.after,
    diff: diffOfStored(row.diff, row.before, row.after, redactor),
    durationMs: row.duration_ms,
    clientEntityId: row.client_entity_id,
    reasonCode: row.reason_code,
    reasonDetail: row.reason_detail,
  };
}

function errorDetails(value: unknown): ErrorDetail[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (d): d is ErrorDetail => isPlainObject(d) && typeof d['field'] === 'string' && typeof d['message'] === 'string',
  );
}

interface FailureRow {
  capture_id: string;
  idx: number;
  entity_type: EntityType;
  client_id: string | null;
  user_id: string;
  entity_id: string | null;
  client_entity_id: string;
  reason_code: string | null;
  reason: string | null;
  reason_detail: unknown;
  payload: unknown;
  started_at: Date;
}

function toFailure(row: FailureRow): DashboardFailure {
  const detail = isPlainObject(row.reason_detail) ? row.reason_detail : {};
  return {
    id: `${row.capture_id}:${row.idx}`,
    captureId: row.capture_id,
    model: row.entity_type,
    clientId: row.client_id,
    userId: row.user_id,
    entityId: row.entity_id ?? row.client_entity_id,
    code: row.reason_code ?? 'UNKNOWN',
    message: typeof detail['message'] === 'string' ? detail['message'] : (row.reason ?? ''),
    details: errorDetails(detail['details']),
    payload: row.payload,
    createdAt: iso(row.started_at),
  };
}

const FAILURE_COLUMNS = sql`m.capture_id, m.idx, m.entity_type, m.client_id, m.user_id, m.entity_id,
  m.client_entity_id, m.reason_code, m.reason, m.reason_detail, m.payload, m.started_at`;

interface ConflictRow {
  id: string;
  entity_type: EntityType;
  device_id: string;
  user_id: string;
  entity_id: string;
  strategy: string;
  outcome: string;
  status: 'PENDING' | 'RESOLVED';
  client_version: number;
  server_version: number;
  client_data: Record<string, unknown>;
  server_data: Record<string, unknown>;
  created_at: Date;
  capture_id: string | null;
  captured_reason: string | null;
}

/** Why a conflict happened, when no capture recorded the reason. */
function conflictReason(row: ConflictRow): string {
  if (row.server_data['deletedAt'] !== null && row.server_data['deletedAt'] !== undefined) {
    return describeReason({ code: 'ENTITY_DELETED' }).text ?? 'ENTITY_DELETED';
  }
  return (
    describeReason({ code: 'VERSION_CONFLICT', clientVersion: row.client_version, serverVersion: row.server_version })
      .text ?? 'VERSION_CONFLICT'
  );
}

/**
 * The dashboard's read side over the capture tables (and sync_conflicts, the record of
 * every conflict, captured or not). Captures are stored redacted; conflicts are redacted
 * here, on the way out. Every list is newest first and reads through an index that
 * matches its filter and order (see migration 0002).
 */
export class SqlCaptureReader implements CaptureReader {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly redactor: Redactor,
  ) {}

  /** Telemetry over the rollups of migration 0004 (telemetry-reader.ts). */
  metrics(window: MetricsWindow): Promise<DashboardMetrics> {
    return readTelemetry(this.db, window);
  }

  async listRequests(q: CapturedRequestListQuery): Promise<CapturedRequestList> {
    let base = this.db.selectFrom('capture_requests');
    if (q.kind !== undefined) base = base.where('kind', '=', q.kind);
    if (q.outcome !== undefined) base = base.where('outcome', '=', q.outcome);
    if (q.clientId !== undefined) base = base.where('client_id', '=', q.clientId);
    if (q.userId !== undefined) base = base.where('user_id', '=', q.userId);
    const rows = await base
      .select(SUMMARY_COLUMNS)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.perPage)
      .offset(offset(q))
      .execute();
    const count = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    return { data: rows.map(toSummary), page: q.page, perPage: q.perPage, total: num(count?.n) };
  }

  async getRequest(id: string): Promise<CapturedRequestDetail | null> {
    if (!UUID.test(id)) return null;
    const row = await this.db.selectFrom('capture_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return null;
    const replays = await this.db
      .selectFrom('capture_requests')
      .select(SUMMARY_COLUMNS)
      .where('replay_of', '=', id)
      .orderBy('started_at')
      .orderBy('id')
      .execute();
    return {
      ...toSummary(row),
      request: row.request,
      response: row.response,
      replays: replays.map(toSummary),
      correlationId: row.correlation_id,
      syncOperationId: row.sync_operation_id,
      errorCode: row.error_code,
    };
  }

  async listMutations(captureId: string, q: DashboardPageQuery): Promise<CapturedMutationList | null> {
    if (!UUID.test(captureId)) return null;
    const capture = await this.db
      .selectFrom('capture_requests')
      .select('id')
      .where('id', '=', captureId)
      .executeTakeFirst();
    if (capture === undefined) return null;
    const rows = await this.db
      .selectFrom('captured_mutations')
      .selectAll()
      .where('capture_id', '=', captureId)
      .orderBy('idx')
      .limit(q.perPage)
      .offset(offset(q))
      .execute();
    const count = await this.db
      .selectFrom('captured_mutations')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('capture_id', '=', captureId)
      .executeTakeFirst();
    return { data: rows.map((row) => toMutation(row, this.redactor)), page: q.page, perPage: q.perPage, total: num(count?.n) };
  }

  async listConflicts(q: DashboardConflictListQuery): Promise<DashboardConflictList> {
    const where = sql.join(
      [
        sql`true`,
        ...(q.model === undefined ? [] : [sql`c.entity_type = ${q.model}`]),
        ...(q.clientId === undefined ? [] : [sql`c.device_id = ${q.clientId}`]),
      ],
      sql` and `,
    );
    const { rows } = await sql<ConflictRow>`
      select c.id, c.entity_type, c.device_id, c.user_id, c.entity_id, c.strategy, c.outcome, c.status,
             c.client_version, c.server_version, c.client_data, c.server_data, c.created_at,
             m.capture_id, m.reason as captured_reason
      from sync_conflicts c
      left join lateral (
        select capture_id, reason from capture_mutations
        where conflict_id = c.id order by started_at limit 1
      ) m on true
      where ${where}
      order by c.created_at desc, c.id desc
      limit ${q.perPage} offset ${offset(q)}`.execute(this.db);
    const count = await sql<{ n: string }>`select count(*) as n from sync_conflicts c where ${where}`.execute(this.db);
    const data = rows.map(
      (row): DashboardConflict => ({
        conflictId: row.id,
        captureId: row.capture_id,
        model: row.entity_type,
        clientId: row.device_id,
        userId: row.user_id,
        entityId: row.entity_id,
        strategy: row.strategy as DashboardConflict['strategy'],
        outcome: row.outcome as DashboardConflict['outcome'],
        status: row.status,
        clientPayload: this.redactor.redact(row.client_data),
        serverState: this.redactor.redact(row.server_data),
        reason: row.captured_reason ?? conflictReason(row),
        createdAt: iso(row.created_at),
      }),
    );
    return { data, page: q.page, perPage: q.perPage, total: num(count.rows[0]?.n) };
  }

  async conflictPatterns(): Promise<ConflictPatterns> {
    const { rows } = await sql<{ entity_type: EntityType; device_id: string; n: string; last_seen: Date }>`
      select entity_type, device_id, count(*) as n, max(created_at) as last_seen
      from sync_conflicts
      group by entity_type, device_id
      order by 3 desc, 4 desc
      limit ${MAX_GROUPS}`.execute(this.db);
    return {
      data: rows.map((r) => ({ model: r.entity_type, clientId: r.device_id, count: num(r.n), lastSeenAt: iso(r.last_seen) })),
    };
  }

  async listFailures(q: DashboardFailureListQuery): Promise<DashboardFailureList> {
    const where = sql.join(
      [
        sql`m.outcome = 'rejected'`,
        ...(q.model === undefined ? [] : [sql`m.entity_type = ${q.model}`]),
        ...(q.clientId === undefined ? [] : [sql`m.client_id = ${q.clientId}`]),
        ...(q.code === undefined ? [] : [sql`m.reason_code = ${q.code}`]),
      ],
      sql` and `,
    );
    const { rows } = await sql<FailureRow>`
      select ${FAILURE_COLUMNS} from capture_mutations m
      where ${where}
      order by m.started_at desc, m.capture_id desc, m.idx desc
      limit ${q.perPage} offset ${offset(q)}`.execute(this.db);
    const count = await sql<{ n: string }>`select count(*) as n from capture_mutations m where ${where}`.execute(this.db);
    return { data: rows.map(toFailure), page: q.page, perPage: q.perPage, total: num(count.rows[0]?.n) };
  }

  async failureGroups(): Promise<FailureGroups> {
    const { rows } = await sql<FailureRow & { n: string; last_seen: Date }>`
      with g as (
        select entity_type, client_id, reason_code, count(*) as n, max(started_at) as last_seen
        from capture_mutations
        where outcome = 'rejected'
        group by entity_type, client_id, reason_code
        order by 4 desc, 5 desc
        limit ${MAX_GROUPS}
      )
      select g.n, g.last_seen, ${FAILURE_COLUMNS}
      from g
      cross join lateral (
        select * from capture_mutations s
        where s.outcome = 'rejected' and s.entity_type = g.entity_type
          -- Mutations always have a client (a push needs a deviceId) and a rejected one a code,
          -- so plain equality holds and reads the failure-groups index.
          and s.client_id = g.client_id and s.reason_code = g.reason_code
        order by s.started_at desc
        limit 1
      ) m
      order by g.n desc, g.last_seen desc`.execute(this.db);
    return {
      data: rows.map((r) => ({
        model: r.entity_type,
        clientId: r.client_id,
        code: r.reason_code ?? 'UNKNOWN',
        count: num(r.n),
        lastSeenAt: iso(r.last_seen),
        sample: toFailure(r),
      })),
    };
  }
}
