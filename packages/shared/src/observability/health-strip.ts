import type { HealthStripStatus } from '../contracts/dashboard.ts';

/** Length of one health-strip bucket, and how many make the 24 h strip. */
export const HEALTH_BUCKET_MS = 5 * 60_000;
export const HEALTH_STRIP_BUCKETS = 288;

/** At least this share of a bucket's requests failed → `failing`. */
export const FAILING_FAILURE_SHARE = 0.5;
/** At least this share of a bucket's requests had conflicts → `degraded` (as does any failure). */
export const DEGRADED_CONFLICT_SHARE = 0.25;

/**
 * The status of one bucket: `idle` without requests; `failing` when at least half of them
 * failed; `degraded` when any failed or at least a quarter had conflicts; else `ok`.
 * `failures` and `conflicts` count requests (that failed; that had at least one conflict).
 */
export function healthBucketStatus(bucket: { requests: number; failures: number; conflicts: number }): HealthStripStatus {
  if (bucket.requests <= 0) return 'idle';
  if (bucket.failures >= bucket.requests * FAILING_FAILURE_SHARE) return 'failing';
  if (bucket.failures > 0 || bucket.conflicts >= bucket.requests * DEGRADED_CONFLICT_SHARE) return 'degraded';
  return 'ok';
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90m`, `24h`, `7d` → milliseconds; undefined when the text is not such a window. */
export function parseMetricsWindow(window: string): number | undefined {
  const match = /^([1-9][0-9]{0,3})([mhd])$/.exec(window);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
