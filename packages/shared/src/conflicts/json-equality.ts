/** A plain JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A canonical text for a JSON value: object keys sorted at every depth, so two values are
 * deeply equal exactly when their canonical texts are equal. `undefined` object members are
 * left out, as JSON does.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (isPlainObject(value)) {
    const members = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`);
    return `{${members.join(',')}}`;
  }
  // JSON.stringify(undefined) is undefined; keep the result a string so it can key a Set.
  return JSON.stringify(value) ?? 'undefined';
}

/** Deep equality of JSON values (key order does not matter; array order does). */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return canonicalJson(a) === canonicalJson(b);
}
