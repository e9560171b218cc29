import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/outbox/retry-backoff.ts';

describe('retryDelayMs', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };

  it('doubles per attempt from the base, without jitter at random 0', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, policy, () => 0))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
  });

  it('is capped at maxMs however many attempts failed', () => {
    expect(retryDelayMs(7, policy, () => 0)).toBe(60_000);
    expect(retryDelayMs(10_000, policy, () => 0)).toBe(60_000);
  });

  it('jitters down by at most 20%, and stays within [1, maxMs]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, baseMs, extra, r) => {
          const p = { baseMs, maxMs: baseMs + extra };
          const full = Math.min(p.maxMs, baseMs * 2 ** Math.min(attempts - 1, 40));
          const delay = retryDelayMs(attempts, p, () => r);
          expect(delay).toBeGreaterThanOrEqual(Math.max(1, Math.floor(full * 0.8)));
          expect(delay).toBeLessThanOrEqual(p.maxMs);
        },
      ),
    );
  });
});
