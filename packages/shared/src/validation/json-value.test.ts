import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NUL_MESSAGE, UNPAIRED_SURROGATE_MESSAGE, escapeUnstorable, findUnstorable, unstorableReason } from './json-value.ts';

describe('strings PostgreSQL can store', () => {
  it('refuses NUL and unpaired surrogates, keeps paired ones', () => {
    expect(unstorableReason('fine 😀')).toBeNull();
    expect(unstorableReason('a\u0000b')).toBe(NUL_MESSAGE);
    expect(unstorableReason('half \ud83d')).toBe(UNPAIRED_SURROGATE_MESSAGE);
    expect(unstorableReason('\ude00 low first')).toBe(UNPAIRED_SURROGATE_MESSAGE);
    expect(unstorableReason('\ude00\ud83d')).toBe(UNPAIRED_SURROGATE_MESSAGE);
  });

  it('finds the first unstorable key or value at any depth, with its path', () => {
    expect(findUnstorable({ a: [1, { b: 'x\ud800' }] })).toEqual({ path: ['a', 1, 'b'], reason: UNPAIRED_SURROGATE_MESSAGE });
    expect(findUnstorable({ ok: 'y', ['k\u0000']: 1 })).toEqual({ path: ['k\u0000'], reason: NUL_MESSAGE });
    expect(findUnstorable({ emoji: ['😀'] })).toBeNull();
  });

  it('escaping leaves every string storable and changes only what was not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const escaped = escapeUnstorable(s);
        expect(unstorableReason(escaped)).toBeNull();
        if (unstorableReason(s) === null) expect(escaped).toBe(s);
      }),
    );
  });
});
