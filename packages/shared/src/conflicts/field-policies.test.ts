import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FIELD_POLICY_RESOLVERS,
  lastWriteWins,
  mergeArrays,
  resolveFieldValue,
  type FieldResolutionInput,
} from './field-policies.ts';
import { canonicalJson } from './json-equality.ts';
import { FIELD_POLICIES, FIELD_POLICY, type FieldPolicy } from './strategies.ts';

const STATUSES = ['ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED'] as const;
const T1 = '2024-05-01T10:00:00.000Z';
const T2 = '2024-05-01T10:00:05.000Z';

describe('resolveFieldValue — examples', () => {
  const cases: [string, FieldPolicy, FieldResolutionInput, unknown][] = [
    [
      'LOCAL_WINS takes the client value',
      'LOCAL_WINS',
      { local: 'mine', server: 'theirs' },
      'mine',
    ],
    ['LOCAL_WINS takes a client null', 'LOCAL_WINS', { local: null, server: 'theirs' }, null],
    [
      'SERVER_WINS keeps the stored value',
      'SERVER_WINS',
      { local: 'mine', server: 'theirs' },
      'theirs',
    ],
    [
      'LAST_WRITE_WINS takes a newer client write',
      'LAST_WRITE_WINS',
      { local: 1, server: 2, localUpdatedAt: T2, serverUpdatedAt: T1 },
      1,
    ],
    [
      'LAST_WRITE_WINS keeps a newer server write',
      'LAST_WRITE_WINS',
      { local: 1, server: 2, localUpdatedAt: T1, serverUpdatedAt: T2 },
      2,
    ],
    [
      'LAST_WRITE_WINS compares instants, not text',
      'LAST_WRITE_WINS',
      { local: 1, server: 2, localUpdatedAt: '2024-05-01T12:00:05+02:00', serverUpdatedAt: T1 },
      1,
    ],
    [
      'LAST_WRITE_WINS on equal times takes the higher version',
      'LAST_WRITE_WINS',
      {
        local: 1,
        server: 2,
        localUpdatedAt: T1,
        serverUpdatedAt: T1,
        localVersion: 9,
        serverVersion: 3,
      },
      1,
    ],
    [
      'LAST_WRITE_WINS without a client time takes the higher version',
      'LAST_WRITE_WINS',
      { local: 1, server: 2, serverUpdatedAt: T1, localVersion: 4, serverVersion: 3 },
      1,
    ],
    [
      'LAST_WRITE_WINS on a version tie keeps the server',
      'LAST_WRITE_WINS',
      { local: 1, server: 2, localVersion: 3, serverVersion: 3 },
      2,
    ],
    [
      'LAST_WRITE_WINS with nothing to compare keeps the server',
      'LAST_WRITE_WINS',
      { local: 1, server: 2 },
      2,
    ],
    [
      'LAST_WRITE_WINS treats an unparsable time as missing',
      'LAST_WRITE_WINS',
      {
        local: 1,
        server: 2,
        localUpdatedAt: 'yesterday',
        serverUpdatedAt: T1,
        localVersion: 1,
        serverVersion: 2,
      },
      2,
    ],
    [
      'MERGE_ARRAYS puts server order first, then client-only elements',
      'MERGE_ARRAYS',
      { local: ['c', 'a', 'd'], server: ['a', 'b'] },
      ['a', 'b', 'c', 'd'],
    ],
    [
      'MERGE_ARRAYS collapses duplicates within one side',
      'MERGE_ARRAYS',
      { local: ['x', 'x'], server: ['a', 'a', 'b'] },
      ['a', 'b', 'x'],
    ],
    [
      'MERGE_ARRAYS dedupes objects by deep equality',
      'MERGE_ARRAYS',
      { local: [{ b: 1, a: 2 }], server: [{ a: 2, b: 1 }] },
      [{ a: 2, b: 1 }],
    ],
    [
      'MERGE_ARRAYS with a null client side keeps the server elements',
      'MERGE_ARRAYS',
      { local: null, server: ['a'] },
      ['a'],
    ],
    [
      'MERGE_ARRAYS with a null server side takes the client elements',
      'MERGE_ARRAYS',
      { local: ['a', 'a'], server: null },
      ['a'],
    ],
    [
      'MONOTONIC: a stale ACTIVE never reopens a COMPLETED session',
      'MONOTONIC',
      { local: 'ACTIVE', server: 'COMPLETED', transitions: STATUSES },
      'COMPLETED',
    ],
    [
      'MONOTONIC: a later client state advances the server',
      'MONOTONIC',
      { local: 'CANCELLED', server: 'PAUSED', transitions: STATUSES },
      'CANCELLED',
    ],
    [
      'MONOTONIC: an unknown client state keeps the server',
      'MONOTONIC',
      { local: 'ARCHIVED', server: 'ACTIVE', transitions: STATUSES },
      'ACTIVE',
    ],
    [
      'MONOTONIC: an unknown server state is kept',
      'MONOTONIC',
      { local: 'COMPLETED', server: 'LEGACY', transitions: STATUSES },
      'LEGACY',
    ],
    [
      'MONOTONIC without transitions keeps the server',
      'MONOTONIC',
      { local: 'COMPLETED', server: 'ACTIVE' },
      'ACTIVE',
    ],
    ['MAX_VALUE takes the larger number', 'MAX_VALUE', { local: 3, server: 7.5 }, 7.5],
    [
      'MAX_VALUE: a null client side yields to the server',
      'MAX_VALUE',
      { local: null, server: 4 },
      4,
    ],
    [
      'MAX_VALUE: a null server side yields to the client',
      'MAX_VALUE',
      { local: 4, server: null },
      4,
    ],
    ['MAX_VALUE of two nulls is null', 'MAX_VALUE', { local: null, server: null }, null],
    ['MIN_VALUE takes the smaller number', 'MIN_VALUE', { local: -3, server: 7 }, -3],
    ['MIN_VALUE: a null side yields to the other', 'MIN_VALUE', { local: 5, server: null }, 5],
    [
      'SERVER_IF_LOCAL_NULL keeps a set client value',
      'SERVER_IF_LOCAL_NULL',
      { local: 'mine', server: 'theirs' },
      'mine',
    ],
    [
      'SERVER_IF_LOCAL_NULL fills a client null from the server',
      'SERVER_IF_LOCAL_NULL',
      { local: null, server: 'theirs' },
      'theirs',
    ],
    [
      'LOCAL_IF_SERVER_NULL keeps a set server value',
      'LOCAL_IF_SERVER_NULL',
      { local: 'mine', server: 'theirs' },
      'theirs',
    ],
    [
      'LOCAL_IF_SERVER_NULL fills a server null from the client',
      'LOCAL_IF_SERVER_NULL',
      { local: 'mine', server: null },
      'mine',
    ],
    [
      'MANUAL keeps the stored value when a merge is forced',
      'MANUAL',
      { local: 'mine', server: 'theirs', localUpdatedAt: T2, serverUpdatedAt: T1 },
      'theirs',
    ],
  ];
  it.each(cases)('%s', (_name, policy, input, expected) => {
    expect(resolveFieldValue(policy, input)).toEqual(expected);
  });

  it.each(FIELD_POLICIES)(
    '%s keeps the server value of a field the patch does not carry',
    (policy) => {
      expect(
        resolveFieldValue(policy, {
          local: undefined,
          server: ['s'],
          localVersion: 9,
          serverVersion: 1,
        }),
      ).toEqual(['s']);
    },
  );

  it('has one resolver per policy', () => {
    expect(Object.keys(FIELD_POLICY_RESOLVERS).sort()).toEqual([...FIELD_POLICIES].sort());
  });
});

const timeArb = fc.option(
  fc
    .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2020, 0, 2) })
    .map((ms) => new Date(ms).toISOString()),
  { nil: undefined },
);
const versionArb = fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined });
const contextArb = fc.record({
  localUpdatedAt: timeArb,
  serverUpdatedAt: timeArb,
  localVersion: versionArb,
  serverVersion: versionArb,
});
const elementArb = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'd'),
  fc.integer({ min: 0, max: 3 }),
  fc.constant({ k: 1 }),
);
const dedupe = (xs: readonly unknown[]) => [
  ...new Map(xs.map((x) => [canonicalJson(x), x])).values(),
];
const keysOf = (xs: readonly unknown[]) => xs.map(canonicalJson);

/** Values each policy is meant for; resolving one against itself must return it. */
const domainOf: Record<FieldPolicy, fc.Arbitrary<unknown>> = {
  LOCAL_WINS: fc.jsonValue(),
  SERVER_WINS: fc.jsonValue(),
  LAST_WRITE_WINS: fc.jsonValue(),
  MERGE_ARRAYS: fc.uniqueArray(fc.jsonValue({ maxDepth: 2 }), {
    selector: canonicalJson,
    maxLength: 6,
  }),
  MONOTONIC: fc.oneof(fc.constantFrom(...STATUSES), fc.string()),
  MAX_VALUE: fc.oneof(fc.double({ noNaN: true }), fc.constant(null)),
  MIN_VALUE: fc.oneof(fc.double({ noNaN: true }), fc.constant(null)),
  SERVER_IF_LOCAL_NULL: fc.jsonValue(),
  LOCAL_IF_SERVER_NULL: fc.jsonValue(),
  MANUAL: fc.jsonValue(),
};

describe('resolveFieldValue — properties', () => {
  it.each(FIELD_POLICIES)(
    '%s is idempotent: a value resolved against itself is unchanged',
    (policy) => {
      fc.assert(
        fc.property(domainOf[policy], contextArb, (value, context) => {
          const result = resolveFieldValue(policy, {
            ...context,
            local: value,
            server: value,
            transitions: STATUSES,
          });
          expect(result).toStrictEqual(value);
        }),
      );
    },
  );

  it('MERGE_ARRAYS result has no duplicates, loses no element and keeps server order first', () => {
    const sideArb = fc.array(elementArb, { maxLength: 8 });
    fc.assert(
      fc.property(sideArb, sideArb, (local, server) => {
        const merged = mergeArrays({ local, server }) as unknown[];
        const keys = keysOf(merged);
        expect(new Set(keys).size).toBe(keys.length);
        for (const key of [...keysOf(local), ...keysOf(server)]) expect(keys).toContain(key);
        const serverPart = keysOf(dedupe(server));
        expect(keys.slice(0, serverPart.length)).toEqual(serverPart);
        const clientOnly = keysOf(dedupe(local)).filter((k) => !serverPart.includes(k));
        expect(keys.slice(serverPart.length)).toEqual(clientOnly);
      }),
    );
  });

  it('MERGE_ARRAYS is idempotent on its own result', () => {
    const sideArb = fc.array(elementArb, { maxLength: 8 });
    fc.assert(
      fc.property(sideArb, sideArb, (local, server) => {
        const merged = mergeArrays({ local, server });
        expect(mergeArrays({ local: merged, server: merged })).toEqual(merged);
      }),
    );
  });

  it('MONOTONIC never moves backwards past either side', () => {
    const stateArb = fc.constantFrom(...STATUSES);
    fc.assert(
      fc.property(stateArb, stateArb, (local, server) => {
        const result = resolveFieldValue(FIELD_POLICY.MONOTONIC, {
          local,
          server,
          transitions: STATUSES,
        });
        const rank = STATUSES.indexOf(result as (typeof STATUSES)[number]);
        expect(rank).toBe(Math.max(STATUSES.indexOf(local), STATUSES.indexOf(server)));
      }),
    );
  });

  it('MONOTONIC keeps the server value whenever a side is not a known state', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom(...STATUSES),
        fc.boolean(),
        (unknown, known, unknownIsLocal) => {
          fc.pre(!(STATUSES as readonly string[]).includes(unknown));
          const [local, server] = unknownIsLocal ? [unknown, known] : [known, unknown];
          expect(resolveFieldValue('MONOTONIC', { local, server, transitions: STATUSES })).toBe(
            server,
          );
        },
      ),
    );
  });

  it('MAX_VALUE and MIN_VALUE pick the largest and smallest number, ignoring null sides', () => {
    const numberOrNull = fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.constant(null));
    fc.assert(
      fc.property(numberOrNull, numberOrNull, (local, server) => {
        const max = resolveFieldValue('MAX_VALUE', { local, server });
        const min = resolveFieldValue('MIN_VALUE', { local, server });
        const numbers = [local, server].filter((v): v is number => v !== null);
        expect(max).toBe(numbers.length > 0 ? Math.max(...numbers) : null);
        expect(min).toBe(numbers.length > 0 ? Math.min(...numbers) : null);
      }),
    );
  });

  it('LAST_WRITE_WINS returns one of the sides, the strictly newer one when times differ', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), contextArb, (local, server, context) => {
        const result = lastWriteWins({ ...context, local, server });
        const { localUpdatedAt: lt, serverUpdatedAt: st } = context;
        if (lt !== undefined && st !== undefined && lt !== st) {
          expect(result).toBe(Date.parse(lt) > Date.parse(st) ? local : server);
        } else if (
          context.localVersion !== undefined &&
          context.serverVersion !== undefined &&
          context.localVersion > context.serverVersion
        ) {
          expect(result).toBe(local);
        } else {
          expect(result).toBe(server);
        }
      }),
    );
  });

  it('SERVER_IF_LOCAL_NULL and LOCAL_IF_SERVER_NULL only fill nulls', () => {
    const valueArb = fc.oneof(fc.constant(null), fc.string(), fc.integer());
    fc.assert(
      fc.property(valueArb, valueArb, (local, server) => {
        expect(resolveFieldValue('SERVER_IF_LOCAL_NULL', { local, server })).toBe(
          local === null ? server : local,
        );
        expect(resolveFieldValue('LOCAL_IF_SERVER_NULL', { local, server })).toBe(
          server === null ? local : server,
        );
      }),
    );
  });
});
