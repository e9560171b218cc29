/**
 * Freezes a value and everything reachable from it (also below already frozen objects);
 * returns the same value.
 */
export function deepFreeze<T>(value: T, seen: WeakSet<object> = new WeakSet()): T {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member, seen);
  return value;
}
