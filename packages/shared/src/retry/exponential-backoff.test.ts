import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs } from './exponential-backoff.ts';

describe('backoffCeilingMs', () => {
  it.each([
    [0, 100],
    [1, 100],
    [2, 200],
    [4, 800],
    [20, 5_000],
    [10_000, 5_000],
  ])('after %i failures waits at most %i ms (base 100, max 5000)', (failures, ceiling) => {
    expect(backoffCeilingMs(failures, 100, 5_000)).toBe(ceiling);
  });

  it('never shrinks with more failures and never passes the maximum', () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 5_000 }), fc.integer({ min: 1, max: 10_000 }), (failures, base) => {
        const max = base * 50;
        const now = backoffCeilingMs(failures, base, max);
        expect(now).toBeLessThanOrEqual(max);
        expect(backoffCeilingMs(failures + 1, base, max)).toBeGreaterThanOrEqual(now);
      }),
    );
  });
});
