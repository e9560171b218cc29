import type { FieldDiff } from '../contracts/dashboard.ts';

/** What a redacted value becomes in captures, diffs and logs (CONTRACT §9). */
export const REDACTED = '[REDACTED]';

/** Keys whose values are always redacted; REDACT_KEYS adds to them. */
export const DEFAULT_REDACT_KEYS = [
  'password',
  'token',
  'secret',
  'authorization',
  'cookie',
  'apiKey',
  'accessToken',
  'refreshToken',
] as const;

/** Deeper than this a value is cut (JSON the server accepts nests at most 64 levels). */
const MAX_DEPTH = 256;

/**
 * The words of a key, lower-cased: camelCase, PascalCase, acronyms, snake_case, kebab-case
 * and dotted keys all split the same way (`X-API-Key`, `x_api_key`, `xApiKey` → x, api, key).
 */
export function keyWords(key: string): string[] {
  const words: string[] = [];
  for (const part of key.split(/[^A-Za-z0-9]+/)) {
    for (const word of part.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+/g) ?? []) {
      words.push(word.toLowerCase());
    }
  }
  return words;
}

/** `apiKey`, `API_KEY`, `api-key` → `apikey`: what a sensitive key is compared as. */
function compact(key: string): string {
  return keyWords(key).join('');
}

export interface Redactor {
  /**
   * Whether values under `key` are redacted: some run of consecutive words of the key spells
   * a sensitive key, case-insensitively (`userPassword`, `X-Api-Key`, `set-cookie`,
   * `client_secret` match; `inputTokens` does not, since `tokens` is not `token`).
   */
  isSensitiveKey(key: string): boolean;
  /**
   * `value` with every value under a sensitive key, at any depth and inside arrays,
   * `"[REDACTED]"`. Only plain objects and arrays are descended into; other values are
   * returned as they are. Copy-on-write: a part holding nothing sensitive is returned as it
   * is (capture redacts every captured state, and most hold no secret), so never mutate
   * the result. Idempotent; never mutates its input.
   */
  redact<T>(value: T): T;
  /**
   * A field diff safe to show: a sensitive field keeps its entry (so it shows *that* it
   * changed) with both sides `"[REDACTED]"`; other fields have their values redacted.
   */
  redactDiff(diff: readonly FieldDiff[]): FieldDiff[];
  /** A URL whose query parameters named by a sensitive key carry `[REDACTED]`. */
  redactUrl(url: string): string;
  /**
   * Whether `redact(JSON.parse(text))` would leave the valid JSON `text` as it is: no key in
   * it is sensitive and it nests well within the depth `redact` descends. A scan of the text,
   * far cheaper than parsing, redacting and serialising it again, which is what capture need
   * not do for the many bodies that hold no secret. Conservative: false for a key written
   * with escapes.
   */
  jsonTextIsClean(text: string): boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isJsonWhitespace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A redactor for the default keys plus `extraKeys` (REDACT_KEYS); blank entries are ignored. */
export function createRedactor(extraKeys: readonly string[] = []): Redactor {
  const sensitive = new Set(
    [...DEFAULT_REDACT_KEYS, ...extraKeys].map(compact).filter((k) => k !== ''),
  );
  const cache = new Map<string, boolean>();

  const isSensitiveKey = (key: string): boolean => {
    const known = cache.get(key);
    if (known !== undefined) return known;
    const words = keyWords(key);
    let hit = false;
    for (let i = 0; i < words.length && !hit; i++) {
      let run = '';
      for (let j = i; j < words.length; j++) {
        run += words[j];
        if (sensitive.has(run)) {
          hit = true;
          break;
        }
      }
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(key, hit);
    return hit;
  };

  // Copies a container only once something under it changed; until then `out` stays null.
  const walk = (value: unknown, depth: number): unknown => {
    if (Array.isArray(value)) {
      if (depth >= MAX_DEPTH) return REDACTED;
      let out: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const next = walk(item, depth + 1);
        if (out === null && next !== item) out = value.slice(0, i);
        out?.push(next);
      }
      return out ?? value;
    }
    if (isPlainRecord(value)) {
      if (depth >= MAX_DEPTH) return REDACTED;
      let out: Record<string, unknown> | null = null;
      const keys = Object.keys(value);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const child = value[key];
        const next = isSensitiveKey(key) ? REDACTED : walk(child, depth + 1);
        if (out === null && next !== child) {
          out = {};
          for (let j = 0; j < i; j++) out[keys[j]!] = value[keys[j]!];
        }
        if (out !== null) out[key] = next;
      }
      return out ?? value;
    }
    return value;
  };

  const redactUrl = (url: string): string => {
    const q = url.indexOf('?');
    if (q < 0) return url;
    const hashAt = url.indexOf('#', q);
    const query = hashAt < 0 ? url.slice(q + 1) : url.slice(q + 1, hashAt);
    const rest = hashAt < 0 ? '' : url.slice(hashAt);
    const parts = query.split('&').map((part) => {
      const eq = part.indexOf('=');
      const rawKey = eq < 0 ? part : part.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: judge the raw text.
      }
      return eq >= 0 && isSensitiveKey(key) ? `${rawKey}=${encodeURIComponent(REDACTED)}` : part;
    });
    return `${url.slice(0, q + 1)}${parts.join('&')}${rest}`;
  };

  const jsonTextIsClean = (text: string): boolean => {
    let depth = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const start = i + 1;
        let escaped = false;
        for (i = start; i < text.length; i++) {
          const d = text.charCodeAt(i);
          if (d === QUOTE) break;
          if (d === BACKSLASH) {
            escaped = true;
            i++;
          }
        }
        let next = i + 1;
        while (next < text.length && isJsonWhitespace(text.charCodeAt(next))) next++;
        if (text.charCodeAt(next) === COLON && (escaped || isSensitiveKey(text.slice(start, i)))) return false;
        i = next - 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth >= MAX_DEPTH - 1) return false;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
      }
    }
    return true;
  };

  return {
    isSensitiveKey,
    jsonTextIsClean,
    redact: <T>(value: T): T => walk(value, 0) as T,
    redactDiff: (diff) =>
      diff.map((entry) =>
        isSensitiveKey(entry.field)
          ? { field: entry.field, before: REDACTED, after: REDACTED }
          : { field: entry.field, before: walk(entry.before, 0), after: walk(entry.after, 0) },
      ),
    redactUrl,
  };
}
