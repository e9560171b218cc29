import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import {
  CURSOR_SCHEMA_VERSION,
  CursorPayloadSchema,
  type CursorPayload,
} from './cursor-payload.ts';
import { InvalidCursorError } from './invalid-cursor-error.ts';
import { CursorPositionSchema, type CursorPosition } from './position.ts';

/** What a cursor means: where the pull continues overall and, optionally, per entity type. */
export interface CompositeCursor {
  /** The composite position (the MIN over entity positions, see getMinCursor). */
  readonly position: CursorPosition;
  readonly entityPositions?: Readonly<Partial<Record<EntityType, CursorPosition>>>;
}

export interface CursorCodec {
  /** An opaque token only this codec's key accepts, and only for `userId`. */
  encode(userId: string, cursor: CompositeCursor): string;
  /** The cursor a token carries; throws InvalidCursorError for anything it did not issue to `userId`. */
  decode(userId: string, token: string): CompositeCursor;
}

/** Tokens longer than this are refused before any work. */
export const MAX_CURSOR_LENGTH = 4096;
/** Keys shorter than this are too weak to keep cursors unforgeable. */
export const MIN_CURSOR_KEY_BYTES = 16;
const MAC_BYTES = 16;

/** Compares in time independent of where the strings differ. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Bytes to text, refusing anything but ASCII: payloads are ASCII by construction. */
function asciiOrNull(bytes: Uint8Array): string | null {
  let text = '';
  for (const b of bytes) {
    if (b > 0x7f) return null;
    text += String.fromCharCode(b);
  }
  return text;
}

/**
 * Cursor codec keyed by a server secret. Tokens are `payload.mac` (see CURSOR_TOKEN_LAYOUT):
 * the MAC covers the payload's exact text and is compared as canonical text, so any change
 * of a token, including base64 padding or trailing-bit variants, is rejected. Subkeys are
 * derived per purpose, so the secret may be shared with other uses.
 */
export function createCursorCodec(key: Uint8Array | string): CursorCodec {
  const keyBytes = typeof key === 'string' ? utf8ToBytes(key) : key;
  if (keyBytes.length < MIN_CURSOR_KEY_BYTES) {
    throw new RangeError(`cursor key must be at least ${MIN_CURSOR_KEY_BYTES} bytes`);
  }
  const macKey = hmac(sha256, keyBytes, utf8ToBytes('sync-engine/cursor/mac'));
  const userKey = hmac(sha256, keyBytes, utf8ToBytes('sync-engine/cursor/user'));

  const macOf = (payloadPart: string) =>
    encodeBase64Url(hmac(sha256, macKey, utf8ToBytes(payloadPart)).subarray(0, MAC_BYTES));
  // JSON.stringify escapes lone surrogates, so distinct userIds hash distinct bytes.
  const userBinding = (userId: string) =>
    bytesToHex(hmac(sha256, userKey, utf8ToBytes(JSON.stringify(userId))).subarray(0, 8));

  function assertUserId(userId: string): void {
    if (typeof userId !== 'string' || userId.length === 0)
      throw new TypeError('userId must be a non-empty string');
  }

  return {
    encode(userId, cursor) {
      assertUserId(userId);
      const p = CursorPositionSchema.parse(cursor.position);
      const e: Partial<Record<EntityType, CursorPosition>> = {};
      let hasEntities = false;
      // Fixed key order keeps equal cursors byte-identical (stable ETags, easy tests).
      for (const type of ENTITY_SYNC_ORDER) {
        const position = cursor.entityPositions?.[type];
        if (position === undefined) continue;
        e[type] = CursorPositionSchema.parse(position);
        hasEntities = true;
      }
      const payload: CursorPayload = {
        v: CURSOR_SCHEMA_VERSION,
        u: userBinding(userId),
        p: { xid: p.xid, seq: p.seq },
        ...(hasEntities ? { e } : {}),
      };
      const payloadPart = encodeBase64Url(utf8ToBytes(JSON.stringify(payload)));
      return `${payloadPart}.${macOf(payloadPart)}`;
    },

    decode(userId, token) {
      assertUserId(userId);
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_CURSOR_LENGTH) {
        throw new InvalidCursorError('malformed');
      }
      const parts = token.split('.');
      const [payloadPart, macPart] = parts;
      if (
        parts.length !== 2 ||
        payloadPart === undefined ||
        macPart === undefined ||
        payloadPart === ''
      ) {
        throw new InvalidCursorError('malformed');
      }
      if (!constantTimeEqual(macOf(payloadPart), macPart))
        throw new InvalidCursorError('bad_signature');

      const bytes = decodeBase64Url(payloadPart);
      const text = bytes === null ? null : asciiOrNull(bytes);
      if (text === null) throw new InvalidCursorError('malformed');
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        throw new InvalidCursorError('malformed');
      }
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
        throw new InvalidCursorError('malformed');
      const version = (raw as { v?: unknown }).v;
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
        throw new InvalidCursorError('malformed');
      }
      if (version > CURSOR_SCHEMA_VERSION) throw new InvalidCursorError('unsupported_version');

      const parsed = CursorPayloadSchema.safeParse(raw);
      if (!parsed.success) {
        const positional = parsed.error.issues.every((i) => i.path[0] === 'p' || i.path[0] === 'e');
        throw new InvalidCursorError(positional ? 'invalid_position' : 'malformed');
      }
      if (!constantTimeEqual(parsed.data.u, userBinding(userId)))
        throw new InvalidCursorError('wrong_user');

      const { p, e } = parsed.data;
      return e === undefined ? { position: p } : { position: p, entityPositions: e };
    },
  };
}
