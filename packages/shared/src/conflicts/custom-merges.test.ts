import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_CONFLICT_CONFIG } from './conflict-config.ts';
import { mergeEntity, mergeJournalEntry } from './custom-merges.ts';
import { deepMergeJson } from './deep-merge.ts';
import { isPlainObject } from './json-equality.ts';
import { applySyncConfig } from './sync-config.ts';

const server = {
  id: 'j-1',
  userId: 'user-1',
  version: 4,
  createdAt: '2024-05-01T09:00:00.000Z',
  updatedAt: '2024-05-01T10:00:00.000Z',
  deletedAt: null,
  content: 'server text',
  tags: ['calm'],
  symptoms: [],
  reactions: { mood: { score: 3, label: 'ok' }, energy: 2, list: [1, 2] },
  sessionId: null,
  consumptionId: null,
  productId: null,
};

describe('deepMergeJson — examples', () => {
  const cases: [string, unknown, unknown, unknown][] = [
    ['keeps keys of both sides', { a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    [
      'recurses into objects on both sides',
      { m: { x: 1, y: 1 } },
      { m: { y: 2, z: 3 } },
      { m: { x: 1, y: 2, z: 3 } },
    ],
    ['takes the client leaf where both hold one', { a: 1 }, { a: 2 }, { a: 2 }],
    ['treats arrays as leaves', { a: [1, 2] }, { a: [3] }, { a: [3] }],
    ['lets a client object replace a server leaf', { a: 1 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['lets a client leaf replace a server object', { a: { b: 1 } }, { a: null }, { a: null }],
    ['keeps the server value when the client has none', { a: 1 }, undefined, { a: 1 }],
  ];
  it.each(cases)('%s', (_name, serverValue, localValue, expected) => {
    expect(deepMergeJson(serverValue, localValue)).toEqual(expected);
  });

  it('keeps a "__proto__" key as data', () => {
    const local = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const merged = deepMergeJson({}, local) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

const objectArb = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.jsonValue({ maxDepth: 3 }), {
  noNullPrototype: true,
});

/** Every path to a non-object value (or empty object) in a JSON object, with its value. */
function leaves(value: unknown, path: string[] = []): [string[], unknown][] {
  if (!isPlainObject(value) || (Object.keys(value).length === 0 && path.length > 0))
    return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
}
function at(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, k) => (isPlainObject(v) ? v[k] : undefined), value);
}

describe('deepMergeJson — properties', () => {
  it('is idempotent', () => {
    fc.assert(
      fc.property(objectArb, (value) => {
        expect(deepMergeJson(value, value)).toStrictEqual(value);
      }),
    );
  });

  it('keeps every client leaf and every server key the client does not replace', () => {
    fc.assert(
      fc.property(objectArb, objectArb, (serverValue, localValue) => {
        const merged = deepMergeJson(serverValue, localValue);
        for (const [path, leaf] of leaves(localValue)) {
          if (isPlainObject(leaf)) expect(isPlainObject(at(merged, path))).toBe(true);
          else expect(at(merged, path)).toStrictEqual(leaf);
        }
        for (const key of Object.keys(serverValue)) expect(merged).toHaveProperty([key]);
      }),
    );
  });
});

describe('journal_entries custom merge', () => {
  const input = {
    entityType: 'journal_entries' as const,
    config: ENTITY_CONFLICT_CONFIG.journal_entries,
    server,
    localVersion: 2,
    serverVersion: 4,
  };

  it('deep-merges reactions: keys of both sides, the client’s leaf where both hold one', () => {
    const merged = mergeEntity({
      ...input,
      local: { reactions: { mood: { score: 5 }, sleep: 'good', list: [9] } },
    });
    expect(merged.reactions).toEqual({
      mood: { score: 5, label: 'ok' },
      energy: 2,
      sleep: 'good',
      list: [9],
    });
  });

  it('applies the generic policies to the other fields', () => {
    const merged = mergeJournalEntry({
      ...input,
      local: { content: 'client text', tags: ['focus', 'calm'], sessionId: 's-9' },
    });
    expect(merged).toMatchObject({
      content: 'client text',
      tags: ['calm', 'focus'],
      sessionId: null,
    });
    expect(merged.reactions).toEqual(server.reactions);
  });

  it('yields to a field policy configured for reactions', () => {
    const configs = applySyncConfig(ENTITY_CONFLICT_CONFIG, {
      entities: { journal_entries: { fieldPolicies: { reactions: { policy: 'SERVER_WINS' } } } },
    });
    const merged = mergeEntity({
      ...input,
      config: configs.journal_entries,
      local: { reactions: { sleep: 'good' } },
    });
    expect(merged.reactions).toEqual(server.reactions);
  });

  it('is used for journal entries only because their config requires a custom merge', () => {
    const generic = { ...ENTITY_CONFLICT_CONFIG.journal_entries, requiresCustomMerge: false };
    const merged = mergeEntity({
      ...input,
      config: generic,
      local: { reactions: { sleep: 'good' } },
    });
    // Without the custom merge, a field without a policy is last-write-wins: the server here.
    expect(merged.reactions).toEqual(server.reactions);
  });
});
