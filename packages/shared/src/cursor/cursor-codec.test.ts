/// <reference types="node" />
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_SYNC_ORDER } from '../entities/entity-types.ts';
import { encodeBase64Url } from './base64url.ts';
import { createCursorCodec, type CompositeCursor } from './cursor-codec.ts';
import { CURSOR_SCHEMA_VERSION } from './cursor-payload.ts';
import { InvalidCursorError, type InvalidCursorReason } from './invalid-cursor-error.ts';
import type { CursorPosition } from './position.ts';

const KEY = 'test-cursor-key-0123456789abcdef';
const codec = createCursorCodec(KEY);

/** Signs an arbitrary payload the way the codec does, to reach checks behind the MAC. */
function signRaw(payload: unknown, key = KEY, userId = 'user-1'): string {
  const k = utf8ToBytes(key);
  const macKey = hmac(sha256, k, utf8ToBytes('sync-engine/cursor/mac'));
  const userKey = hmac(sha256, k, utf8ToBytes('sync-engine/cursor/user'));
  const u = bytesToHex(hmac(sha256, userKey, utf8ToBytes(JSON.stringify(userId))).subarray(0, 8));
  const body = JSON.stringify({ u, ...(payload as object) });
  const part = encodeBase64Url(utf8ToBytes(body));
  return `${part}.${encodeBase64Url(hmac(sha256, macKey, utf8ToBytes(part)).subarray(0, 16))}`;
}

function reasonOf(fn: () => unknown): InvalidCursorReason | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (error) {
    if (error instanceof InvalidCursorError) return error.reason;
    throw error;
  }
}

const arbPosition: fc.Arbitrary<CursorPosition> = fc
  .tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }))
  .map(([xid, seq]) => ({ xid: String(xid), seq: String(seq) }));

const arbCursor: fc.Arbitrary<CompositeCursor> = fc
  .record({
    position: arbPosition,
    entityPositions: fc.dictionary(fc.constantFrom(...ENTITY_SYNC_ORDER), arbPosition, {
      maxKeys: 9,
    }),
  })
  .map(({ position, entityPositions }) =>
    Object.keys(entityPositions).length === 0 ? { position } : { position, entityPositions },
  );
const arbUserId = fc.string({ minLength: 1, maxLength: 128, unit: 'binary' });

describe('cursor codec', () => {
  const cursor: CompositeCursor = {
    position: { xid: '812', seq: '40' },
    entityPositions: { sessions: { xid: '812', seq: '40' }, products: { xid: '900', seq: '41' } },
  };

  it('round-trips a composite cursor', () => {
    expect(codec.decode('user-1', codec.encode('user-1', cursor))).toEqual(cursor);
    expect(
      codec.decode('user-1', codec.encode('user-1', { position: { xid: '0', seq: '0' } })),
    ).toEqual({
      position: { xid: '0', seq: '0' },
    });
  });

  it('is opaque: URL-safe, versioned, without the raw userId', () => {
    const token = codec.encode('alice@example.com', cursor);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    const payload = Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8');
    expect(payload).not.toContain('alice');
    const parsed: unknown = JSON.parse(payload);
    expect(parsed).toMatchObject({ v: CURSOR_SCHEMA_VERSION });
    expect((parsed as { u: string }).u).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is deterministic whatever the order of entity positions', () => {
    const reordered: CompositeCursor = {
      position: cursor.position,
      entityPositions: { products: { xid: '900', seq: '41' }, sessions: { xid: '812', seq: '40' } },
    };
    expect(codec.encode('u', reordered)).toBe(codec.encode('u', cursor));
  });

  it('rejects undecodable tokens as malformed', () => {
    for (const token of ['', 'abc', 'a.b.c', '.abc', 'not base64!.x', 'x'.repeat(5000)]) {
      expect(reasonOf(() => codec.decode('user-1', token))).toMatch(/malformed|bad_signature/);
    }
  });

  it('rejects a token signed with another key', () => {
    const other = createCursorCodec('another-key-with-enough-bytes!!');
    expect(reasonOf(() => codec.decode('user-1', other.encode('user-1', cursor)))).toBe(
      'bad_signature',
    );
  });

  it('rejects a validly signed payload that is not JSON or not a cursor', () => {
    expect(
      reasonOf(() => codec.decode('user-1', signRaw({ v: 1, p: { xid: '01', seq: '0' } }))),
    ).toBe('invalid_position');
    expect(
      reasonOf(() =>
        codec.decode('user-1', signRaw({ v: 1, p: { xid: '1', seq: '1' }, e: { users: {} } })),
      ),
    ).toBe('invalid_position');
    expect(
      reasonOf(() => codec.decode('user-1', signRaw({ v: 1, p: { xid: '1.5', seq: 'x' } }))),
    ).toBe('invalid_position');
    expect(
      reasonOf(() => codec.decode('user-1', signRaw({ v: 1, p: { xid: '1', seq: '1' }, x: 1 }))),
    ).toBe('malformed');
    expect(
      reasonOf(() => codec.decode('user-1', signRaw({ v: '1', p: { xid: '1', seq: '1' } }))),
    ).toBe('malformed');
    expect(
      reasonOf(() => codec.decode('user-1', signRaw({ v: 0, p: { xid: '1', seq: '1' } }))),
    ).toBe('malformed');
  });

  it('rejects a newer schema version with its own reason', () => {
    const token = signRaw({
      v: CURSOR_SCHEMA_VERSION + 1,
      p: { xid: '1', seq: '1' },
      future: 'field',
    });
    const error = (() => {
      try {
        codec.decode('user-1', token);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidCursorError);
    expect(error).toMatchObject({
      reason: 'unsupported_version',
      code: 'INVALID_CURSOR',
      status: 400,
    });
  });

  it('accepts the hand-signed reference layout (pins the token layout)', () => {
    expect(codec.decode('user-1', signRaw({ v: 1, p: { xid: '5', seq: '6' } }))).toEqual({
      position: { xid: '5', seq: '6' },
    });
  });

  it('refuses weak keys and empty user ids', () => {
    expect(() => createCursorCodec('short')).toThrow(RangeError);
    expect(() => createCursorCodec(new Uint8Array(15))).toThrow(RangeError);
    expect(() => codec.encode('', cursor)).toThrow(TypeError);
  });

  it('refuses to encode a malformed position', () => {
    expect(() => codec.encode('u', { position: { xid: '-1', seq: '0' } })).toThrow();
  });

  it('gives clients one message whichever user the cursor belonged to', () => {
    const error = (() => {
      try {
        codec.decode('bob', codec.encode('alice', cursor));
      } catch (e) {
        return e as InvalidCursorError;
      }
      return undefined;
    })();
    expect(error?.reason).toBe('wrong_user');
    expect(error?.message).not.toMatch(/alice|bob/);
  });
});

describe('cursor codec properties', () => {
  it('decode(encode(c)) = c for any user and cursor', () => {
    fc.assert(
      fc.property(arbUserId, arbCursor, (userId, cursor) => {
        expect(codec.decode(userId, codec.encode(userId, cursor))).toEqual(cursor);
      }),
    );
  });

  it('rejects any single-character change of a token', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    fc.assert(
      fc.property(
        arbUserId,
        arbCursor,
        fc.nat(),
        fc.oneof(
          fc.constantFrom(...alphabet),
          fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
        ),
        (userId, cursor, at, replacement) => {
          const token = codec.encode(userId, cursor);
          const i = at % token.length;
          fc.pre(token[i] !== replacement);
          const tampered = token.slice(0, i) + replacement + token.slice(i + 1);
          expect(() => codec.decode(userId, tampered)).toThrow(InvalidCursorError);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rejects every single-character change of one token, exhaustively', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=';
    const token = codec.encode('user-1', cursor0());
    for (let i = 0; i < token.length; i++) {
      for (const c of alphabet) {
        if (c === token[i]) continue;
        const tampered = token.slice(0, i) + c + token.slice(i + 1);
        expect(() => codec.decode('user-1', tampered), `position ${i} → ${c}`).toThrow(
          InvalidCursorError,
        );
      }
    }
  });

  it("rejects user A's token for user B", () => {
    fc.assert(
      fc.property(arbUserId, arbUserId, arbCursor, (a, b, cursor) => {
        fc.pre(a !== b);
        expect(reasonOf(() => codec.decode(b, codec.encode(a, cursor)))).toBe('wrong_user');
      }),
    );
  });
});

function cursor0(): CompositeCursor {
  return { position: { xid: '7', seq: '1' }, entityPositions: { goals: { xid: '7', seq: '1' } } };
}
