import { isPlainObject } from './json-equality.ts';

/**
 * Deep-merges two JSON values, the client's over the server's: where both are objects, the
 * result holds the keys of both, merged recursively; anywhere else (a non-object on either
 * side — scalars, arrays, null) the client's value wins. Missing client values (`undefined`)
 * keep the server's. Merging a value with itself returns an equal value.
 */
export function deepMergeJson(server: unknown, local: unknown): unknown {
  if (local === undefined) return server;
  if (!isPlainObject(server) || !isPlainObject(local)) return local;
  const merged = new Map<string, unknown>(Object.entries(server));
  for (const [key, value] of Object.entries(local)) {
    merged.set(key, deepMergeJson(server[key], value));
  }
  // Object.fromEntries defines own properties, so a key such as "__proto__" stays data.
  return Object.fromEntries(merged);
}
