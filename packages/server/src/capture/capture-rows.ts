import type { Insertable } from 'kysely';
import { isPlainObject, type EntityType, type Redactor } from '@sync-engine/shared';
import type { CaptureMutationOutcome, CaptureOutcome, CaptureRequestsTable, SyncChangeType } from '../db/schema.ts';
import type { PushResult } from '../sync/push/push-types.ts';
import type { PendingCapture } from './pending-capture.ts';
import { changedFieldNames } from './stored-diff.ts';

/** A stored request or response body larger than this (as JSON) has its arrays cut. */
export const MAX_CAPTURED_BODY_CHARS = 256 * 1024;

/** The width of one `capture_model_stats` bucket. */
export const MODEL_STATS_BUCKET_MS = 5 * 60_000;

export interface ModelStatsDelta {
  mutations: number;
  conflicts: number;
  failures: number;
}

/**
 * A capture_mutations row with its jsonb columns as values: a batch of them is sent as one
 * JSON document (capture-store.ts), not as twenty bind parameters a row.
 */
export interface CaptureMutationRecord {
  readonly capture_id: string;
  readonly idx: number;
  readonly started_at: string;
  readonly user_id: string;
  readonly client_id: string | null;
  readonly request_id: string;
  readonly entity_type: EntityType;
  readonly entity_id: string | null;
  readonly client_entity_id: string;
  readonly change_type: SyncChangeType;
  readonly outcome: CaptureMutationOutcome;
  readonly reason: string | null;
  readonly reason_code: string | null;
  readonly reason_detail: unknown;
  readonly conflict_id: string | null;
  readonly payload: unknown;
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  /** The changed fields' names; their values are in `before` / `after`. */
  readonly diff: readonly string[];
  readonly duration_ms: number | null;
}

/** What one captured request becomes in the database, redacted. */
export interface CaptureRows {
  readonly request: Insertable<CaptureRequestsTable>;
  readonly mutations: CaptureMutationRecord[];
  /** Per entity type, for `capture_model_stats` (bucket of the request's start). */
  readonly models: Map<EntityType, ModelStatsDelta>;
  readonly bucketStartMs: number;
}

/**
 * JSON text PostgreSQL accepts as jsonb: NUL and unpaired surrogates are what jsonb cannot
 * hold, and a rejected change may well carry them, so they become U+FFFD rather than failing
 * the batch. JSON.stringify writes exactly those as `\u` escapes (a paired surrogate stays a
 * character), so the escapes are all there is to find.
 */
export function jsonbText(value: unknown): string {
  let text = JSON.stringify(value ?? null);
  if (!text.includes('\\u0000') && !text.includes('\\ud')) return text;
  // An even run of backslashes (escaped backslashes) before `u…` leaves it an escape.
  for (let prev = ''; prev !== text;) {
    prev = text;
    text = text.replace(/(^|[^\\])((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g, '$1$2\\ufffd');
  }
  return text;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An answer's body as text, when it is JSON the server wrote (uncompressed). */
function jsonPayloadText(payload: unknown, headers: Readonly<Record<string, unknown>>): string | null {
  if (headers['content-encoding'] !== undefined) return null;
  const type = headers['content-type'];
  if (typeof type !== 'string' || !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) return null;
  const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
  return text === undefined || text === '' ? null : text;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * A body as stored: its JSON text as it was sent when nothing in it needs redacting and it
 * fits — the common case, which then costs a scan instead of a parse, a redaction and a
 * serialisation — else the parsed body redacted and serialised (fitBodyJson). The column is
 * json, which holds any valid JSON text as it is (migration 0006).
 */
function storedBodyJson(text: string | null, parsed: () => unknown, redactor: Redactor): string {
  if (text !== null && text.length <= MAX_CAPTURED_BODY_CHARS && redactor.jsonTextIsClean(text)) return text;
  return fitBodyJson(redactor.redact(parsed() ?? null));
}

function cutArrays(value: unknown, keep: number, depth: number): unknown {
  if (depth > 6) return value;
  if (Array.isArray(value)) {
    return value.slice(0, keep).map((item: unknown) => cutArrays(item, keep, depth + 1));
  }
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cutArrays(v, keep, depth + 1)]));
  }
  return value;
}

/**
 * A body small enough to store, as JSON text: as it is when it fits `maxChars`; otherwise
 * its arrays are cut (fewer elements until it fits) and `_captureTruncated` says so. The
 * mutations of a push are stored one by one anyway, so nothing about them is lost.
 * Serialises the (usual) small body once.
 */
export function fitBodyJson(value: unknown, maxChars = MAX_CAPTURED_BODY_CHARS): string {
  const text = jsonbText(value);
  if (text.length <= maxChars) return text;
  const marker = { _captureTruncated: { originalChars: text.length } };
  if (isPlainObject(value)) {
    for (let keep = 1000; keep >= 1; keep = Math.floor(keep / 4)) {
      const cut = jsonbText({
        ...(cutArrays(value, keep, 0) as Record<string, unknown>),
        ...marker,
      });
      if (cut.length <= maxChars) return cut;
    }
  }
  return JSON.stringify(marker);
}

/** `{...fields, body}` as JSON text, the body already serialised. */
function withBody(fields: Record<string, unknown>, bodyJson: string): string {
  const head = jsonbText(fields);
  return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"body":${bodyJson}}`;
}

/** `{code, message}` of a reason object, shown as one line. */
export function describeReason(reason: unknown): { text: string | null; code: string | null } {
  if (reason === null || reason === undefined) return { text: null, code: null };
  if (typeof reason === 'string') return { text: reason, code: null };
  if (!isPlainObject(reason)) return { text: JSON.stringify(reason), code: null };
  const code = typeof reason['code'] === 'string' ? reason['code'] : null;
  const message = typeof reason['message'] === 'string' ? reason['message'] : null;
  if (code === 'VERSION_CONFLICT' && typeof reason['clientVersion'] === 'number') {
    return {
      code,
      text: `VERSION_CONFLICT: client version ${reason['clientVersion']} is behind server version ${String(reason['serverVersion'])}`,
    };
  }
  if (code === 'ENTITY_DELETED') return { code, text: 'ENTITY_DELETED: the entity was deleted on the server' };
  if (code !== null) return { code, text: message === null ? code : `${code}: ${message}` };
  return { code: null, text: message };
}

/** The outcome of a whole request: failed (non-2xx, or every change failed), partial (207), success. */
export function requestOutcome(httpStatus: number, result: PushResult | undefined): CaptureOutcome {
  if (httpStatus >= 400) return 'failed';
  if (result === undefined) return 'success';
  const { successful, failed, conflicts } = result;
  if (failed.length > 0 && successful.length === 0 && conflicts.length === 0) return 'failed';
  if (failed.length > 0 || conflicts.length > 0) return 'partial';
  return 'success';
}

type Entry = { serverId?: string; conflictId?: string };

/** Answer entries by entity type + requestId, taken in order (a requestId may repeat). */
class EntryQueues {
  private readonly queues = new Map<string, Entry[]>();
  constructor(entries: readonly (Entry & { entityType: string; requestId: string })[]) {
    for (const e of entries) {
      const key = `${e.entityType}\u0000${e.requestId}`;
      const q = this.queues.get(key);
      if (q) q.push(e);
      else this.queues.set(key, [e]);
    }
  }
  take(entityType: string, requestId: string): Entry | undefined {
    return this.queues.get(`${entityType}\u0000${requestId}`)?.shift();
  }
}

function idOf(state: Readonly<Record<string, unknown>> | null | undefined): string | null {
  const id = state?.['id'];
  return typeof id === 'string' ? id : null;
}

interface RawMutation {
  readonly index: number;
  readonly requestId: string;
  readonly entityType: EntityType;
  readonly entityId: string;
  readonly changeType: SyncChangeType;
  readonly payload: unknown;
  readonly outcome: CaptureMutationOutcome;
  readonly reason: unknown;
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  readonly durationMs: number | null;
}

/**
 * An idempotent replay applied nothing and has no traces: its mutations are the request's
 * changes with the outcomes of the stored answer.
 */
function mutationsOfStoredAnswer(body: unknown, result: PushResult): RawMutation[] {
  const changes = (body as { changes?: unknown } | null | undefined)?.changes;
  if (!Array.isArray(changes)) return [];
  const successful = new Map(result.successful.map((s) => [`${s.entityType}\u0000${s.requestId}`, s.outcome]));
  const failed = new Set(result.failed.map((f) => `${f.entityType}\u0000${f.requestId}`));
  const conflicted = new Set(result.conflicts.map((c) => `${c.entityType}\u0000${c.requestId}`));
  const out: RawMutation[] = [];
  changes.forEach((change: unknown, index) => {
    if (!isPlainObject(change)) return;
    const { requestId, entityType, entityId, changeType } = change;
    if (typeof requestId !== 'string' || typeof entityType !== 'string' || typeof entityId !== 'string') return;
    if (changeType !== 'CREATE' && changeType !== 'UPDATE' && changeType !== 'DELETE') return;
    const key = `${entityType}\u0000${requestId}`;
    const success = successful.get(key);
    const outcome: CaptureMutationOutcome = conflicted.has(key)
      ? 'conflict'
      : failed.has(key)
        ? 'rejected'
        : success === 'APPLIED'
          ? 'applied'
          : 'skipped';
    out.push({
      index,
      requestId,
      entityType: entityType as EntityType,
      entityId,
      changeType,
      payload: change['changeData'] ?? {},
      outcome,
      reason: {
        code: 'IDEMPOTENT_REPLAY',
        message: 'answered from the stored result; nothing applied',
      },
      before: null,
      after: null,
      durationMs: null,
    });
  });
  return out;
}

function rawMutations(capture: PendingCapture): RawMutation[] {
  const push = capture.trace?.push;
  if (push === undefined) return [];
  if (push.mutations.length === 0 && push.replayed) return mutationsOfStoredAnswer(capture.requestBody, push.body);
  return [...push.mutations].sort((a, b) => a.index - b.index);
}

/**
 * Turns a pending capture into rows: every payload, header and state redacted (the diff is
 * field names, paired with the redacted states on read); each mutation linked to the server
 * id it touched and, for a conflict, to its sync_conflicts row.
 */
export function buildCaptureRows(capture: PendingCapture, redactor: Redactor): CaptureRows {
  const result = capture.trace?.push?.body;
  const startedAt = new Date(capture.startedAtMs).toISOString();
  const responseText = jsonPayloadText(capture.responsePayload, capture.responseHeaders);
  // Only an error's body is needed as a value here (for its code); it is small.
  const errorBody = capture.httpStatus >= 400 ? parseJson(responseText) : null;
  const error = isPlainObject(errorBody) && isPlainObject(errorBody['error']) ? errorBody['error'] : undefined;
  const errorCode = capture.httpStatus >= 400 && typeof error?.['code'] === 'string' ? error['code'] : null;

  const successes = new EntryQueues(result?.successful ?? []);
  const failures = new EntryQueues(result?.failed ?? []);
  const conflicts = new EntryQueues(result?.conflicts ?? []);
  const replayed = capture.trace?.push?.replayed === true;
  const models = new Map<EntityType, ModelStatsDelta>();

  const mutations = rawMutations(capture).map((m): CaptureMutationRecord => {
    let serverId: string | null = null;
    let conflictId: string | null = null;
    if (m.outcome === 'applied' || m.outcome === 'skipped') {
      serverId = successes.take(m.entityType, m.requestId)?.serverId ?? null;
    } else if (m.outcome === 'conflict') {
      const entry = conflicts.take(m.entityType, m.requestId);
      serverId = entry?.serverId ?? null;
      // A replayed answer's conflicts belong to the original capture.
      if (!replayed && entry?.conflictId !== undefined && UUID.test(entry.conflictId)) conflictId = entry.conflictId;
    } else {
      failures.take(m.entityType, m.requestId);
    }
    serverId = idOf(m.after) ?? idOf(m.before) ?? serverId;

    const stats = models.get(m.entityType) ?? { mutations: 0, conflicts: 0, failures: 0 };
    stats.mutations += 1;
    if (m.outcome === 'conflict') stats.conflicts += 1;
    if (m.outcome === 'rejected') stats.failures += 1;
    models.set(m.entityType, stats);

    const reason = describeReason(m.reason);
    return {
      capture_id: capture.id,
      idx: m.index,
      started_at: startedAt,
      user_id: capture.userId,
      client_id: capture.clientId,
      request_id: m.requestId,
      entity_type: m.entityType,
      entity_id: serverId,
      client_entity_id: m.entityId,
      change_type: m.changeType,
      outcome: m.outcome,
      reason: reason.text,
      reason_code: m.outcome === 'rejected' ? (reason.code ?? 'UNKNOWN') : reason.code,
      reason_detail: isPlainObject(m.reason) ? redactor.redact(m.reason) : null,
      conflict_id: conflictId,
      payload: redactor.redact(m.payload ?? {}),
      before: m.before === null ? null : redactor.redact(m.before),
      after: m.after === null ? null : redactor.redact(m.after),
      diff: changedFieldNames(m.before, m.after),
      // Microseconds are all a timing says; more digits only lengthen every stored row.
      duration_ms: m.durationMs === null ? null : Math.round(m.durationMs * 1000) / 1000,
    };
  });

  const request: Insertable<CaptureRequestsTable> = {
    id: capture.id,
    kind: capture.kind,
    user_id: capture.userId,
    client_id: capture.clientId,
    correlation_id: capture.correlationId,
    sync_operation_id: capture.syncOperationId,
    replay_of: capture.replayOf,
    method: capture.method,
    route: capture.route,
    started_at: startedAt,
    duration_ms: capture.durationMs,
    http_status: capture.httpStatus,
    outcome: requestOutcome(capture.httpStatus, result),
    error_code: errorCode,
    mutation_count: mutations.length,
    conflict_count: result?.conflicts.length ?? 0,
    failure_count: result?.failed.length ?? 0,
    snapshot_count: capture.trace?.pulled ?? 0,
    request: withBody(
      {
        method: capture.method,
        url: redactor.redactUrl(capture.url),
        headers: redactor.redact(capture.requestHeaders),
      },
      storedBodyJson(capture.requestBodyText, () => capture.requestBody, redactor),
    ),
    response: withBody(
      { status: capture.httpStatus, headers: redactor.redact(capture.responseHeaders) },
      storedBodyJson(responseText, () => parseJson(responseText), redactor),
    ),
  };
  return {
    request,
    mutations,
    models,
    bucketStartMs: Math.floor(capture.startedAtMs / MODEL_STATS_BUCKET_MS) * MODEL_STATS_BUCKET_MS,
  };
}
