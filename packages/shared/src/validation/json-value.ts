import { z } from 'zod';

/**
 * PostgreSQL text and jsonb cannot hold the NUL character, so every string a client sends
 * is checked here rather than failing later inside a write.
 */
export const NUL_MESSAGE = 'must not contain the NUL character';

export function hasNul(value: string): boolean {
  return value.includes('\u0000');
}

/** A string without NUL characters. */
export function safeString(): z.ZodString {
  return z.string().refine((s) => !hasNul(s), { message: NUL_MESSAGE });
}

/** Finds the first NUL-containing string (in keys or values) at any depth; returns its path. */
export function findNulPath(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === 'string') return hasNul(value) ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNulPath(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (hasNul(k)) return [...path, k];
      const found = findNulPath(v, [...path, k]);
      if (found) return found;
    }
  }
  return null;
}

/** Nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1). */
export function jsonDepth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let max = 0;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    const d = jsonDepth(v);
    if (d > max) max = d;
  }
  return max + 1;
}

/** A plain JSON object (not an array) whose strings and keys hold no NUL. */
export function jsonObject(): z.ZodType<Record<string, unknown>> {
  return z.record(z.string(), z.unknown()).superRefine((obj, ctx) => {
    const nul = findNulPath(obj);
    if (nul) ctx.addIssue({ code: 'custom', message: NUL_MESSAGE, path: nul });
  });
}
