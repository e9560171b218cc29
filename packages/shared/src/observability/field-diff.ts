import type { FieldDiff } from '../contracts/dashboard.ts';
import { isPlainObject } from '../conflicts/json-equality.ts';

type State = Readonly<Record<string, unknown>> | null | undefined;

/**
 * Deep equality of JSON values with `jsonEquals`' meaning (key order ignored, `undefined`
 * members absent), without building canonical strings: diffs run for every captured change.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const key of Object.keys(x)) {
    if (x[key] === undefined) continue;
    defined++;
    if (!Object.hasOwn(y, key) || !sameJson(x[key], y[key])) return false;
  }
  for (const key of Object.keys(y)) if (y[key] !== undefined) defined--;
  return defined === 0;
}

/**
 * The top-level fields whose values differ between two states (an entity before and after
 * a change). A field absent on one side — or a whole side that is null, as before a CREATE —
 * counts as `null` there, so a field is listed exactly when `before[f] ?? null` and
 * `after[f] ?? null` are not deeply equal. Order: the fields of `before`, then those only in
 * `after`. Values are not redacted here: diff the raw states, then `redactor.redactDiff`.
 */
export function diffFields(before: State, after: State): FieldDiff[] {
  const b = isPlainObject(before) ? before : {};
  const a = isPlainObject(after) ? after : {};
  const fields = [...Object.keys(b), ...Object.keys(a).filter((k) => !Object.hasOwn(b, k))];
  const diff: FieldDiff[] = [];
  for (const field of fields) {
    const was = b[field] ?? null;
    const is = a[field] ?? null;
    if (!sameJson(was, is)) diff.push({ field, before: was, after: is });
  }
  return diff;
}
