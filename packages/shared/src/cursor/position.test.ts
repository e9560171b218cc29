import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  START_POSITION,
  comparePositions,
  getMinCursor,
  isCursorPosition,
  type CursorPosition,
} from './position.ts';

const pos = (xid: bigint | number, seq: bigint | number): CursorPosition => ({
  xid: String(xid),
  seq: String(seq),
});

const arbPosition: fc.Arbitrary<CursorPosition> = fc
  .tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }))
  .map(([x, s]) => pos(x, s));

describe('comparePositions', () => {
  it('orders by transaction id first, then sequence, numerically not lexically', () => {
    expect(comparePositions(pos(9, 500), pos(10, 1))).toBe(-1);
    expect(comparePositions(pos(10, 2), pos(10, 10))).toBe(-1);
    expect(comparePositions(pos(10, 10), pos(10, 10))).toBe(0);
    expect(comparePositions(pos(2n ** 64n - 1n, 0), pos(2n ** 64n - 2n, 99))).toBe(1);
  });

  it('is a total order consistent with (BigInt xid, BigInt seq)', () => {
    fc.assert(
      fc.property(arbPosition, arbPosition, (a, b) => {
        const expected =
          BigInt(a.xid) !== BigInt(b.xid)
            ? Math.sign(Number(BigInt(a.xid) - BigInt(b.xid)))
            : Math.sign(Number(BigInt(a.seq) - BigInt(b.seq)));
        expect(comparePositions(a, b)).toBe(expected);
        expect(comparePositions(b, a)).toBe(-expected);
      }),
    );
  });
});

describe('getMinCursor', () => {
  it('picks the earliest position (the MIN rule)', () => {
    expect(getMinCursor([pos(12, 1), pos(7, 40), pos(7, 3), pos(30, 0)])).toEqual(pos(7, 3));
  });

  it('treats a missing position as the start, which wins', () => {
    expect(getMinCursor([pos(12, 1), null])).toBe(START_POSITION);
    expect(getMinCursor([undefined, pos(1, 1)])).toBe(START_POSITION);
    expect(getMinCursor([])).toBe(START_POSITION);
  });

  it('is ≤ every input and is one of them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(arbPosition, { nil: undefined, freq: 8 }), { minLength: 1 }),
        (positions) => {
          const min = getMinCursor(positions);
          const effective = positions.map((p) => p ?? START_POSITION);
          for (const p of effective) expect(comparePositions(min, p)).toBeLessThanOrEqual(0);
          expect(effective).toContainEqual(min);
        },
      ),
    );
  });
});

describe('isCursorPosition', () => {
  it('accepts canonical in-range decimals only', () => {
    expect(isCursorPosition(pos(0, 0))).toBe(true);
    expect(isCursorPosition(pos(2n ** 64n - 1n, 2n ** 63n - 1n))).toBe(true);
    for (const bad of [
      pos(2n ** 64n, 0),
      pos(0, 2n ** 63n),
      { xid: '01', seq: '0' },
      { xid: '-1', seq: '0' },
      { xid: '1.5', seq: '0' },
      { xid: ' 1', seq: '0' },
      { xid: 1, seq: '0' },
      { xid: '1' },
      { xid: '1', seq: '1', extra: true },
      null,
    ]) {
      expect(isCursorPosition(bad)).toBe(false);
    }
  });
});
