import { REDACTED, diffFields, isPlainObject, sameJson, type FieldDiff, type Redactor } from '@sync-engine/shared';

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
  const was = isPlainObject(before) ? before : {};
  const is = isPlainObject(after) ? after : {};
  const names = stored === null && !isPlainObject(before) ? createdFieldNames(is) : stored;
  if (!Array.isArray(names)) return [];
  return names.flatMap((entry: unknown): FieldDiff[] => {
    if (typeof entry !== 'string') return isPlainObject(entry) ? [entry as FieldDiff] : [];
    return redactor.isSensitiveKey(entry)
      ? [{ field: entry, before: REDACTED, after: REDACTED }]
      : [{ field: entry, before: was[entry] ?? null, after: is[entry] ?? null }];
  });
}

/** What a change with no state before (a CREATE) changed: every field of `after` with a value. */
function createdFieldNames(after: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(after).filter((field) => after[field] !== null && after[field] !== undefined);
}

/**
 * Whether a mutation's diff need not be stored: it had no state before and its changed
 * fields are exactly those `diffOfStored` derives from the stored (redacted) `after`.
 */
export function diffIsDerivable(diff: readonly string[], before: State, after: State): boolean {
  if (before !== null && before !== undefined) return false;
  if (!isPlainObject(after)) return diff.length === 0;
  const derived = createdFieldNames(after);
  if (derived.length !== diff.length) return false;
  const names = new Set(diff);
  return derived.every((field) => names.has(field));
}

/**
 * A state after a change as what it adds to the change's payload, when both are objects:
 * `(payload − absent) ∪ changed` is `after` as JSON. An applied change's state repeats most of
 * its payload; storing only the rest is most of what storing the state cost. The
 * captured_mutations view puts the state back together (migration 0006).
 */
export function afterOverPayload(
  payload: unknown,
  after: State,
): { changed: Record<string, unknown>; absent: string[] } | null {
  if (!isPlainObject(payload) || !isPlainObject(after)) return null;
  const changed: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const sent = payload[field];
    if (sent === undefined || !sameJson(sent, value)) changed[field] = value;
  }
  const absent = Object.keys(payload).filter((field) => payload[field] !== undefined && after[field] === undefined);
  return { changed, absent };
}
