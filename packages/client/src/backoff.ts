import { backoffCeilingMs } from '@sync-engine/shared';

/** How often and how patiently a request (or a failed change) is tried again. */
export interface RetryPolicy {
  /** Tries of one request in total, the first included. */
  readonly maxAttempts: number;
  /** Backoff before the second try; doubles each time. */
  readonly baseDelayMs: number;
  /** Ceiling of one backoff (Retry-After is honoured even when longer). */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
});

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(max, base·2^(attempt-1))].
 * Jitter keeps a fleet of devices that failed together from retrying together.
 * `attempt` counts failures so far (1 after the first failure).
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  return Math.floor(random() * backoffCeilingMs(attempt, policy.baseDelayMs, policy.maxDelayMs));
}

/**
 * The delay before retrying an answer that asked to wait: never shorter than the server's
 * Retry-After (it knows when the lock frees or the rate window resets), plus the jittered
 * backoff so devices told the same Retry-After do not all come back in the same instant.
 */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  random: () => number,
): number {
  const jittered = backoffDelayMs(attempt, policy, random);
  if (retryAfterMs === undefined) return jittered;
  return retryAfterMs + Math.floor(jittered / 4);
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Missing,
 * malformed or past → undefined.
 */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  const ms = at - now.getTime();
  return ms > 0 ? ms : undefined;
}
