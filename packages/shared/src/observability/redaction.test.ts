import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffFields } from './field-diff.ts';
import { DEFAULT_REDACT_KEYS, REDACTED, createRedactor, keyWords } from './redaction.ts';

const redactor = createRedactor(['ssn', 'credit_card']);

describe('sensitive keys — examples', () => {
  it.each([
    'password',
    'PASSWORD',
    'userPassword',
    'password_hash',
    'token',
    'accessToken',
    'access_token',
    'refresh-token',
    'x-csrf-token',
    'secret',
    'clientSecret',
    'authorization',
    'Authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'apiKey',
    'api_key',
    'X-API-Key',
    'x-api-key',
    'APIKey',
    'apikey',
    'ssn',
    'SSN',
    'creditCard',
    'credit-card-number',
  ])('%s is redacted', (key) => {
    expect(redactor.isSensitiveKey(key)).toBe(true);
  });

  it.each(['name', 'inputTokens', 'outputTokens', 'description', 'settings', 'key', 'api', 'notes', 'secretary'])(
    '%s is kept',
    (key) => {
      expect(redactor.isSensitiveKey(key)).toBe(false);
    },
  );

  it('splits keys into words the same way whatever the casing style', () => {
    expect(keyWords('X-API-Key')).toEqual(['x', 'api', 'key']);
    expect(keyWords('xApiKey')).toEqual(['x', 'api', 'key']);
    expect(keyWords('x_api_key')).toEqual(['x', 'api', 'key']);
    expect(keyWords('oauth2Token')).toEqual(['oauth2', 'token']);
  });

  it('REDACT_KEYS add to the defaults, not replace them', () => {
    const custom = createRedactor(['pin']);
    expect(custom.isSensitiveKey('pin')).toBe(true);
    expect(custom.isSensitiveKey('password')).toBe(true);
    expect(createRedactor().isSensitiveKey('pin')).toBe(false);
  });
});

describe('redact — examples', () => {
  it('replaces values at any depth and inside arrays, whole objects included', () => {
    const input = {
      name: 'Pixel',
      settings: { apiKey: 'sk-live-1', nested: { password: 'hunter2', keep: 1 } },
      list: [{ token: 't1' }, { fine: [{ Secret: { deep: true } }] }],
      headers: { cookie: ['a=b', 'c=d'], 'x-api-key': 'k' },
    };
    expect(redactor.redact(input)).toEqual({
      name: 'Pixel',
      settings: { apiKey: REDACTED, nested: { password: REDACTED, keep: 1 } },
      list: [{ token: REDACTED }, { fine: [{ Secret: REDACTED }] }],
      headers: { cookie: REDACTED, 'x-api-key': REDACTED },
    });
    // The input is untouched.
    expect(input.settings.apiKey).toBe('sk-live-1');
  });

  it('copies only the parts that held something sensitive', () => {
    const clean = { name: 'Pixel', tags: ['a', { b: 1 }] };
    expect(redactor.redact(clean)).toBe(clean);
    const mixed = { clean, list: [1, { token: 't' }], after: { keep: true } };
    const out = redactor.redact(mixed);
    expect(out).toEqual({ clean, list: [1, { token: REDACTED }], after: { keep: true } });
    expect(out).not.toBe(mixed);
    expect(out.clean).toBe(clean);
    expect(out.after).toBe(mixed.after);
    expect(mixed.list[1]).toEqual({ token: 't' });
  });

  it('keeps scalars and non-plain objects as they are', () => {
    expect(redactor.redact('password')).toBe('password');
    expect(redactor.redact(null)).toBe(null);
    const date = new Date(0);
    expect(redactor.redact({ at: date }).at).toBe(date);
  });

  it('redacts sensitive query parameters of a URL', () => {
    expect(redactor.redactUrl('/api/v1/sync/changes?limit=5&apiKey=abc&token=x%20y#frag')).toBe(
      '/api/v1/sync/changes?limit=5&apiKey=%5BREDACTED%5D&token=%5BREDACTED%5D#frag',
    );
    expect(redactor.redactUrl('/healthz')).toBe('/healthz');
    expect(redactor.redactUrl('/x?access_token=1&flag')).toBe('/x?access_token=%5BREDACTED%5D&flag');
  });

  it('a changed sensitive field keeps its diff entry with both sides redacted', () => {
    const diff = diffFields(
      { apiKey: 'old', settings: { password: 'a', theme: 'dark' }, same: 1 },
      { apiKey: 'new', settings: { password: 'b', theme: 'dark' }, same: 1 },
    );
    expect(redactor.redactDiff(diff)).toEqual([
      { field: 'apiKey', before: REDACTED, after: REDACTED },
      {
        field: 'settings',
        before: { password: REDACTED, theme: 'dark' },
        after: { password: REDACTED, theme: 'dark' },
      },
    ]);
  });
});

// ---- properties -------------------------------------------------------------------------

const SECRET = 'S3CR3T-VALUE';

/** A sensitive key in some casing style, sometimes with a prefix word. */
const sensitiveKey = fc
  .tuple(
    fc.constantFrom(...DEFAULT_REDACT_KEYS, 'ssn', 'credit_card'),
    fc.constantFrom('asIs', 'upper', 'snake', 'kebab', 'pascal'),
    fc.constantFrom('', 'x-', 'user', 'my_'),
  )
  .map(([key, style, prefix]) => {
    const words = keyWords(key);
    const styled =
      style === 'upper'
        ? key.toUpperCase()
        : style === 'snake'
          ? words.join('_')
          : style === 'kebab'
            ? words.join('-')
            : style === 'pascal'
              ? words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
              : key;
    return prefix === 'user' ? `user${styled[0]!.toUpperCase()}${styled.slice(1)}` : `${prefix}${styled}`;
  });

const plainKey = fc.constantFrom('name', 'notes', 'settings', 'nested', 'items', 'inputTokens', 'value', 'a', 'b');

/** JSON in which the secret marker only ever appears under sensitive keys. */
const tree = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('node'), { maxLength: 4 }),
    fc
      .array(
        fc.oneof(
          fc.tuple(plainKey, tie('node')),
          fc.tuple(sensitiveKey, fc.oneof(fc.constant(SECRET), fc.constant({ inner: SECRET }), fc.constant([SECRET]))),
        ),
        { maxLength: 5 },
      )
      .map((entries) => Object.fromEntries(entries)),
  ),
})).node.filter((v) => !JSON.stringify(v ?? null).includes(REDACTED));

function everyValueUnderSensitiveKeyIsRedacted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(everyValueUnderSensitiveKeyIsRedacted);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([k, v]) =>
      redactor.isSensitiveKey(k) ? v === REDACTED : everyValueUnderSensitiveKeyIsRedacted(v),
    );
  }
  return true;
}

describe('redact — properties', () => {
  it('no value under a sensitive key survives, at any depth', () => {
    fc.assert(
      fc.property(tree, (value) => {
        const out = redactor.redact(value);
        expect(everyValueUnderSensitiveKeyIsRedacted(out)).toBe(true);
        expect(JSON.stringify(out ?? null)).not.toContain(SECRET);
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(tree, fc.jsonValue()), (value) => {
        const once = redactor.redact(value);
        expect(redactor.redact(once)).toEqual(once);
      }),
    );
  });

  it('changes nothing where no key is sensitive', () => {
    const safe = fc.jsonValue().filter((v) => {
      const keys: string[] = [];
      const visit = (x: unknown): void => {
        if (Array.isArray(x)) x.forEach(visit);
        else if (x !== null && typeof x === 'object') {
          for (const [k, child] of Object.entries(x)) {
            keys.push(k);
            visit(child);
          }
        }
      };
      visit(v);
      return keys.every((k) => !redactor.isSensitiveKey(k));
    });
    fc.assert(
      fc.property(safe, (value) => {
        expect(redactor.redact(value)).toEqual(value);
      }),
    );
  });

  it('a redacted diff keeps exactly the entries of the raw diff', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(plainKey, sensitiveKey), fc.jsonValue()),
        fc.dictionary(fc.oneof(plainKey, sensitiveKey), fc.jsonValue()),
        (before, after) => {
          const raw = diffFields(before, after);
          const safe = redactor.redactDiff(raw);
          expect(safe.map((d) => d.field)).toEqual(raw.map((d) => d.field));
          for (const entry of safe) {
            if (redactor.isSensitiveKey(entry.field)) {
              expect(entry).toEqual({ field: entry.field, before: REDACTED, after: REDACTED });
            }
          }
        },
      ),
    );
  });

  it('a JSON text it calls clean is one redaction would leave as it is, however it is written', () => {
    const key = fc.oneof(plainKey, sensitiveKey, fc.string({ maxLength: 8 }), fc.constantFrom('pass"word', 'to\\ken', 'tok\u0065n'));
    const json = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.oneof(fc.string(), fc.constantFrom('"password": 1', '{"token":'), fc.integer(), fc.constant(null)),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(json, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        if (redactor.jsonTextIsClean(text)) expect(redactor.redact(JSON.parse(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('jsonTextIsClean — examples', () => {
  it('passes a body without secrets, strings that only look like keys included', () => {
    expect(redactor.jsonTextIsClean('{"changes":[{"changeData":{"notes":"\\"password\\": 1","n":[1,{"a":2}]}}]}')).toBe(true);
    expect(redactor.jsonTextIsClean('[]')).toBe(true);
  });

  it('stops at a sensitive key at any depth, written with spaces or escapes, and at deep nesting', () => {
    expect(redactor.jsonTextIsClean('{"a":[{"b":{"userPassword" : "x"}}]}')).toBe(false);
    expect(redactor.jsonTextIsClean('{"to\\u006ben":"x"}')).toBe(false);
    expect(redactor.jsonTextIsClean('[[[["ssn"]]]]')).toBe(true);
    expect(redactor.jsonTextIsClean(`${'['.repeat(300)}${']'.repeat(300)}`)).toBe(false);
  });
});
