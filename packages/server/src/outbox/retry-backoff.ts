import { backoffCeilingMs } from '@sync-engine/shared';

export interface BackoffPolicy {
  /** Delay before the second attempt. */
  readonly baseMs: number;
  /** No delay is longer than this. */
  readonly maxMs: number;
}

/**
 * Delay before the next delivery of an event that failed its `attempts`-th attempt:
 * exponential (`baseMs · 2^(attempts−1)`, capped at `maxMs`), minus up to 20% random
 * jitter so events that failed together do not all retry in the same instant. `random`
 * returns [0, 1) (injectable for tests). Never below 1 ms, never above `maxMs`.
 */
export function retryDelayMs(
  attempts: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const full = backoffCeilingMs(attempts, policy.baseMs, policy.maxMs);
  return Math.max(1, Math.round(full * (1 - 0.2 * random())));
}
