/**
 * The longest wait before the try after `failures` failures: `baseMs · 2^(failures−1)`,
 * never above `maxMs` (0 or fewer failures → `baseMs`). Callers add their own jitter below it.
 * The exponent is clamped before it can overflow to Infinity.
 */
export function backoffCeilingMs(failures: number, baseMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 52);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}
