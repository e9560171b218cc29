import { createHmac, timingSafeEqual } from 'node:crypto';
import { SyncError } from '@sync-engine/shared';

/** Where a conflict page ends: the last row's exact `created_at` (µs, UTC) and id. */
export interface ConflictPagePosition {
  /** `YYYY-MM-DDTHH:MM:SS.ffffff` in UTC: exact, unlike a JS Date (ms). */
  readonly createdKey: string;
  readonly id: string;
}

export interface ConflictPageCursorCodec {
  encode(userId: string, status: string | undefined, position: ConflictPagePosition): string;
  /** The position a token holds; INVALID_CURSOR for anything not issued to this user and filter. */
  decode(userId: string, status: string | undefined, token: string): ConflictPagePosition;
}

const VERSION = 1;
const MAX_TOKEN_LENGTH = 512;
const CREATED_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function invalid(): SyncError {
  return new SyncError(
    'INVALID_CURSOR',
    'The conflicts cursor is invalid for this user and filter',
  );
}

/**
 * Opaque keyset cursors of `GET /sync/conflicts`: `<payload>.<mac>`, base64url. The MAC
 * binds the position to the user and the status filter, so a cursor cannot be forged,
 * altered, or replayed by another user or with another filter.
 */
export function createConflictPageCursorCodec(secret: string): ConflictPageCursorCodec {
  const key = createHmac('sha256', secret).update('sync-engine/conflict-page-cursor').digest();
  const macOf = (userId: string, status: string | undefined, payload: string) =>
    createHmac('sha256', key)
      .update(JSON.stringify([userId, status ?? null, payload]))
      .digest()
      .subarray(0, 16);
  return {
    encode(userId, status, position) {
      const payload = Buffer.from(
        JSON.stringify([VERSION, position.createdKey, position.id]),
      ).toString('base64url');
      return `${payload}.${macOf(userId, status, payload).toString('base64url')}`;
    },
    decode(userId, status, token) {
      if (token.length > MAX_TOKEN_LENGTH) throw invalid();
      const [payload, mac, extra] = token.split('.');
      if (payload === undefined || mac === undefined || extra !== undefined) throw invalid();
      const expected = macOf(userId, status, payload);
      const given = Buffer.from(mac, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      // Canonical base64url only: a re-encoded variant of a valid token is not the same token.
      if (given.toString('base64url') !== mac) throw invalid();
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw invalid();
      }
      if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== VERSION) throw invalid();
      const [, createdKey, id] = parsed as [unknown, unknown, unknown];
      if (typeof createdKey !== 'string' || !CREATED_KEY.test(createdKey)) throw invalid();
      if (typeof id !== 'string' || !UUID.test(id)) throw invalid();
      return { createdKey, id };
    },
  };
}
