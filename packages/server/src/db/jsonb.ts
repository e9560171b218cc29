/**
 * Serialises a value for a jsonb parameter. Both drivers accept JSON text for jsonb, while
 * a raw JS value is ambiguous: node-postgres sends an array as a PostgreSQL array literal.
 */
export function toJsonb(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('toJsonb: the value is not JSON-serialisable');
  return text;
}
