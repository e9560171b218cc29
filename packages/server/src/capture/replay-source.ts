import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  REDACTED,
  SyncError,
  createPushRequestSchema,
  isPlainObject,
  type Redactor,
} from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import type { PushRequestBody } from '../sync/push/push-service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A captured push as it can be sent again: who sent it, from which device, and its body. */
export interface ReplaySource {
  readonly captureId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly body: PushRequestBody;
}

function unavailable(captureId: string, why: string): SyncError {
  return new SyncError('REPLAY_UNAVAILABLE', `Capture ${captureId} cannot be replayed: ${why}`);
}

/**
 * The first place in `value` whose content the capture redacted: a key the redactor treats
 * as sensitive (its value was replaced, whatever it is now) or a `"[REDACTED]"` value (a key
 * made sensitive by a REDACT_KEYS entry since removed). Undefined when there is none.
 */
export function firstRedactedPath(
  value: unknown,
  redactor: Redactor,
  path = '',
): string | undefined {
  if (value === REDACTED) return path === '' ? '(root)' : path;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const hit = firstRedactedPath(item, redactor, `${path}[${i}]`);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (redactor.isSensitiveKey(key)) return childPath;
    const hit = firstRedactedPath(child, redactor, childPath);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/**
 * Loads a captured push for replay. Captures are stored redacted and the original values
 * are kept nowhere (on purpose: secrets live in one place, the entity tables, and never in
 * the capture store), so a capture is replayable only when its stored body *is* the
 * original: no redacted value in it, not cut for size, a valid push envelope.
 *
 * Throws NOT_FOUND for an unknown id or a capture that is not a push (a full sync's push
 * part counts as one), REPLAY_UNAVAILABLE otherwise.
 */
export async function loadReplaySource(
  db: Kysely<DB>,
  redactor: Redactor,
  captureId: string,
  maxChanges: number,
): Promise<ReplaySource> {
  const row = UUID.test(captureId)
    ? await db
        .selectFrom('capture_requests')
        .select(['kind', 'user_id', 'request', 'http_status'])
        .where('id', '=', captureId)
        .executeTakeFirst()
    : undefined;
  if (row === undefined) throw new SyncError('NOT_FOUND', `No captured request ${captureId}`);
  if (row.kind !== 'push' && row.kind !== 'full') {
    throw new SyncError(
      'NOT_FOUND',
      `Capture ${captureId} is a ${row.kind}; only pushes can be replayed`,
    );
  }
  const request: unknown = row.request;
  const body = isPlainObject(request) ? request['body'] : undefined;
  if (!isPlainObject(body)) throw unavailable(captureId, 'it has no request body');
  if ('_captureTruncated' in body) {
    throw unavailable(captureId, 'its body was larger than the capture limit and was stored cut');
  }
  if (Array.isArray(body['changes']) && body['changes'].length === 0)
    throw unavailable(captureId, 'it pushed no changes');
  const parsed = createPushRequestSchema({ maxChanges }).safeParse(body);
  if (!parsed.success) {
    throw unavailable(
      captureId,
      `its body is not a valid push (it was answered ${row.http_status})`,
    );
  }
  const redacted = firstRedactedPath(parsed.data.changes, redactor, 'changes');
  if (redacted !== undefined) {
    throw unavailable(
      captureId,
      `${redacted} was redacted when captured and the original value is not kept; replaying would store "${REDACTED}"`,
    );
  }
  return { captureId, userId: row.user_id, deviceId: parsed.data.deviceId, body: parsed.data };
}

/**
 * The push a live replay sends: the captured one with a new syncOperationId and a new
 * requestId per change (so neither idempotency rule turns it into a no-op), everything
 * else — entity ids, data, versions — as captured.
 */
export function cloneForReplay(body: PushRequestBody): PushRequestBody {
  return {
    ...body,
    syncOperationId: randomUUID(),
    changes: body.changes.map((change) => ({ ...change, requestId: `replay-${randomUUID()}` })),
  };
}
