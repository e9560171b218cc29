import { REDACTED, diffFields, isPlainObject, type FieldDiff, type Redactor } from '@sync-engine/shared';

type State = Readonly<Record<string, unknown>> | null | undefined;

/**
 * What `capture_mutations.diff` stores: the names of the fields a change altered, diffed on
 * the raw states. The values are not stored a second time — they are in the row's
 * (redacted) `before` and `after`, and repeating them made the diff the largest column and
 * the costliest part of writing a capture.
 */
export function changedFieldNames(before: State, after: State): string[] {
  return diffFields(before, after).map((entry) => entry.field);
}

/**
 * The field diff a stored mutation shows: each changed field with its values taken from the
 * stored, already redacted states, a sensitive field with both sides `"[REDACTED]"` — the
 * same as `redactor.redactDiff(diffFields(rawBefore, rawAfter))`. Rows written before the
 * diff was stored as names hold whole entries; those are returned as they are.
 */
export function diffOfStored(stored: unknown, before: State, after: State, redactor: Redactor): FieldDiff[] {
  if (!Array.isArray(stored)) return [];
  const was = isPlainObject(before) ? before : {};
  const is = isPlainObject(after) ? after : {};
  return stored.flatMap((entry: unknown): FieldDiff[] => {
    if (typeof entry !== 'string') return isPlainObject(entry) ? [entry as FieldDiff] : [];
    return redactor.isSensitiveKey(entry)
      ? [{ field: entry, before: REDACTED, after: REDACTED }]
      : [{ field: entry, before: was[entry] ?? null, after: is[entry] ?? null }];
  });
}
