import { z } from 'zod';

/** Years a timestamp may name once moved to UTC: what PostgreSQL and every client can hold. */
export const MIN_TIMESTAMP_YEAR = 1;
export const MAX_TIMESTAMP_YEAR = 9999;

export const TIMESTAMP_RANGE_MESSAGE = `must name a year from ${MIN_TIMESTAMP_YEAR} to ${MAX_TIMESTAMP_YEAR} (UTC)`;

function inRange(value: string): boolean {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return false;
  const year = new Date(ms).getUTCFullYear();
  return year >= MIN_TIMESTAMP_YEAR && year <= MAX_TIMESTAMP_YEAR;
}

/**
 * An ISO-8601 timestamp with a zone (`Z` or an offset). Year 0000 passes the ISO format but
 * PostgreSQL has no year 0, so the range is checked here: such a value is a field-level
 * validation error of its change, never a failed write.
 */
export function isoTimestamp(): z.ZodType<string> {
  return z.iso.datetime({ offset: true }).refine(inRange, { message: TIMESTAMP_RANGE_MESSAGE });
}
