import { z } from 'zod';

/**
 * Strings PostgreSQL cannot store: text and jsonb cannot hold the NUL character, and jsonb
 * (and UTF-8 text, once encoded) no unpaired UTF-16 surrogate, which JSON's `\ud800` escape
 * lets a client send. Every string a client sends is checked here rather than failing later
 * inside a write, where it would look like a server fault.
 */
export const NUL_MESSAGE = 'must not contain the NUL character';
export const UNPAIRED_SURROGATE_MESSAGE = 'must be well-formed Unicode (it holds an unpaired surrogate)';

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why PostgreSQL could not store `value`, or null when it can. */
export function unstorableReason(value: string): string | null {
  if (value.includes('\u0000')) return NUL_MESSAGE;
  if (UNPAIRED_SURROGATE.test(value)) return UNPAIRED_SURROGATE_MESSAGE;
  return null;
}

const UNSTORABLE_CHARACTERS = new RegExp(`\\u0000|${UNPAIRED_SURROGATE.source}`, 'g');

/**
 * `value` with each character PostgreSQL could not store written as its `\uXXXX` escape: for
 * messages that name what a client sent (a field's key), which are stored and sent back.
 */
export function escapeUnstorable(value: string): string {
  return value.replace(UNSTORABLE_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A string PostgreSQL can store (see unstorableReason). */
export function safeString(): z.ZodString {
  return z.string().superRefine((s, ctx) => {
    const reason = unstorableReason(s);
    if (reason !== null) ctx.addIssue({ code: 'custom', message: reason });
  });
}

/** The first string (key or value) at any depth PostgreSQL could not store: its path and why. */
export function findUnstorable(
  value: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; reason: string } | null {
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    return reason === null ? null : { path, reason };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const reason = unstorableReason(k);
      if (reason !== null) return { path: [...path, k], reason };
      const found = findUnstorable(v, [...path, k]);
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

/** A plain JSON object (not an array) whose strings and keys PostgreSQL can store. */
export function jsonObject(): z.ZodType<Record<string, unknown>> {
  return z.record(z.string(), z.unknown()).superRefine((obj, ctx) => {
    const found = findUnstorable(obj);
    if (found) ctx.addIssue({ code: 'custom', message: found.reason, path: found.path });
  });
}
