import { z } from 'zod';

/**
 * A point in the change log: the writing transaction's id (`pg_current_xact_id()`, xid8)
 * and the change's sequence number, both decimal strings because they exceed 2^53.
 * Changes are ordered by (xid, seq); a cursor's position is the last change handed out.
 */
export interface CursorPosition {
  readonly xid: string;
  readonly seq: string;
}

/** Before every change: where a pull without a cursor starts. */
export const START_POSITION: CursorPosition = Object.freeze({ xid: '0', seq: '0' });

const MAX_XID = 2n ** 64n - 1n; // xid8 is unsigned 64-bit
const MAX_SEQ = 2n ** 63n - 1n; // a bigint sequence

const CANONICAL_DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** Canonical decimal (no sign, no leading zeros), so one position has one spelling. */
function decimal(max: bigint, what: string) {
  return (
    z
      .string()
      .regex(CANONICAL_DECIMAL, { message: `${what} must be a canonical decimal integer` })
      // Zod runs every check even after one fails; BigInt() would throw on a non-decimal.
      .refine((s) => !CANONICAL_DECIMAL.test(s) || BigInt(s) <= max, {
        message: `${what} is out of range`,
      })
  );
}

/** Wire schema of a position; rejects anything but canonical in-range decimals. */
export const CursorPositionSchema = z.strictObject({
  xid: decimal(MAX_XID, 'xid'),
  seq: decimal(MAX_SEQ, 'seq'),
});

export function isCursorPosition(value: unknown): value is CursorPosition {
  return CursorPositionSchema.safeParse(value).success;
}

/** Orders positions by (xid, seq) numerically: negative, zero or positive like a comparator. */
export function comparePositions(a: CursorPosition, b: CursorPosition): -1 | 0 | 1 {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  if (ax !== bx) return ax < bx ? -1 : 1;
  const as = BigInt(a.seq);
  const bs = BigInt(b.seq);
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/**
 * The MIN rule: the composite position is the earliest of the per-entity positions, so a
 * pull resuming from it never skips a change of any entity type (at worst it re-sends a
 * few, which clients apply idempotently). A missing position (null/undefined) means
 * "from the start" and wins; an empty list is the start too. The result is ≤ every input
 * and is one of them (START_POSITION standing for a missing one).
 */
export function getMinCursor(
  positions: readonly (CursorPosition | null | undefined)[],
): CursorPosition {
  let min: CursorPosition | undefined;
  for (const position of positions) {
    if (position === null || position === undefined) return START_POSITION;
    if (min === undefined || comparePositions(position, min) < 0) min = position;
  }
  return min ?? START_POSITION;
}
