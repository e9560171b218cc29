import { describe, expect, it } from 'vitest';
import { MAX_CAPTURED_BODY_CHARS, describeReason, fitBodyJson, jsonbText, requestOutcome } from './capture-rows.ts';

const result = (successful: number, failed: number, conflicts: number) =>
  ({
    syncOperationId: 'op',
    successful: Array.from({ length: successful }),
    failed: Array.from({ length: failed }),
    conflicts: Array.from({ length: conflicts }),
    idMappings: [],
  }) as never;

describe('capture rows', () => {
  it('jsonb text replaces NUL (which jsonb cannot hold) and nothing that only looks like it', () => {
    expect(jsonbText({ a: 'x\u0000y\u0000\u0000' })).toBe('{"a":"x\\ufffdy\\ufffd\\ufffd"}');
    expect(JSON.parse(jsonbText({ k: 'back\\u0000slash' }))).toEqual({ k: 'back\\u0000slash' });
    expect(JSON.parse(jsonbText({ k: '\\\u0000' }))).toEqual({ k: '\\\ufffd' });
    expect(jsonbText({ ['n\u0000'] : 1 })).toBe('{"n\\ufffd":1}');
    expect(jsonbText(undefined)).toBe('null');
  });

  it('a body over the limit keeps its scalars, cuts its arrays and says so', () => {
    const small = { deviceId: 'd', changes: [{ a: 1 }] };
    expect(fitBodyJson(small)).toBe(JSON.stringify(small));
    const big = { deviceId: 'd', changes: Array.from({ length: 5000 }, (_, i) => ({ i, text: 'x'.repeat(100) })) };
    const fitted = JSON.parse(fitBodyJson(big)) as { deviceId: string; changes: unknown[]; _captureTruncated: { originalChars: number } };
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(MAX_CAPTURED_BODY_CHARS);
    expect(fitted.deviceId).toBe('d');
    expect(fitted.changes.length).toBeGreaterThan(0);
    expect(fitted.changes.length).toBeLessThan(5000);
    expect(fitted._captureTruncated.originalChars).toBe(JSON.stringify(big).length);
    expect(JSON.parse(fitBodyJson('y'.repeat(MAX_CAPTURED_BODY_CHARS + 1)))).toEqual({
      _captureTruncated: { originalChars: MAX_CAPTURED_BODY_CHARS + 3 },
    });
  });

  it('reasons read as one line with their code', () => {
    expect(describeReason(null)).toEqual({ text: null, code: null });
    expect(describeReason({ code: 'NOT_FOUND' })).toEqual({ text: 'NOT_FOUND', code: 'NOT_FOUND' });
    expect(describeReason({ code: 'VALIDATION_ERROR', message: 'changeData is invalid', details: [] })).toEqual({
      text: 'VALIDATION_ERROR: changeData is invalid',
      code: 'VALIDATION_ERROR',
    });
    expect(describeReason({ code: 'VERSION_CONFLICT', clientVersion: 1, serverVersion: 3 }).text).toBe(
      'VERSION_CONFLICT: client version 1 is behind server version 3',
    );
  });

  it('a request is failed when not 2xx or when every change failed, partial with any failure or conflict', () => {
    expect(requestOutcome(400, undefined)).toBe('failed');
    expect(requestOutcome(409, undefined)).toBe('failed');
    expect(requestOutcome(200, undefined)).toBe('success');
    expect(requestOutcome(304, undefined)).toBe('success');
    expect(requestOutcome(200, result(3, 0, 0))).toBe('success');
    expect(requestOutcome(207, result(2, 1, 0))).toBe('partial');
    expect(requestOutcome(207, result(0, 0, 1))).toBe('partial');
    expect(requestOutcome(207, result(0, 2, 0))).toBe('failed');
  });
});
