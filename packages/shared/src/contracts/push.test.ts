import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_SYNC_ORDER } from '../entities/entity-types.ts';
import {
  MAX_CHANGES_PER_PUSH,
  MAX_SYNC_VERSION,
  PushRequestSchema,
  PushResultSchema,
  createPushRequestSchema,
  type PushResult,
} from './push.ts';

const OP = '0f8fad5b-d9cb-469f-a165-70867728950e';
const change = (over: Record<string, unknown> = {}) => ({
  requestId: 'evt-1',
  entityType: 'sessions',
  entityId: 'local-s1',
  changeType: 'CREATE',
  changeData: { status: 'ACTIVE' },
  syncVersion: 0,
  ...over,
});
const push = (over: Record<string, unknown> = {}) => ({
  syncOperationId: OP,
  deviceId: 'device-1',
  lastSyncCursor: null,
  changes: [change()],
  ...over,
});
const issuesOf = (value: unknown) =>
  PushRequestSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.code}`) ??
  [];

describe('PushRequestSchema', () => {
  it('accepts the contract example and defaults changeData to {}', () => {
    const parsed = PushRequestSchema.parse(
      push({ changes: [change(), change({ changeType: 'DELETE', changeData: undefined })] }),
    );
    expect(parsed.changes[1]?.changeData).toEqual({});
    expect(parsed.lastSyncCursor).toBeNull();
  });

  it('accepts optional clientId, updatedAt and an absent lastSyncCursor', () => {
    const body = push({
      lastSyncCursor: undefined,
      changes: [change({ clientId: 'c1', updatedAt: '2024-05-01T10:00:00.000Z' })],
    });
    expect(PushRequestSchema.safeParse(body).success).toBe(true);
  });

  it('ignores unknown top-level and per-change keys instead of refusing the request', () => {
    const parsed = PushRequestSchema.parse({
      ...push({ changes: [{ ...change(), extra: 1 }] }),
      appVersion: '3.1',
    });
    expect(parsed).not.toHaveProperty('appVersion');
    expect(parsed.changes[0]).not.toHaveProperty('extra');
  });

  it('leaves a NUL inside changeData to the per-entity validation, so that change fails alone', () => {
    expect(issuesOf(push({ changes: [change({ changeData: { notes: 'x\u0000' } })] }))).toEqual([]);
  });

  it('keeps unknown changeData fields for the per-entity validation to report', () => {
    const parsed = PushRequestSchema.parse(
      push({ changes: [change({ changeData: { bogus: true } })] }),
    );
    expect(parsed.changes[0]?.changeData).toEqual({ bogus: true });
  });

  it.each([
    [
      'a non-uuid syncOperationId',
      push({ syncOperationId: 'op-1' }),
      'syncOperationId: invalid_format',
    ],
    ['an empty deviceId', push({ deviceId: '' }), 'deviceId: too_small'],
    ['a 129-char deviceId', push({ deviceId: 'd'.repeat(129) }), 'deviceId: too_big'],
    ['no changes', push({ changes: [] }), 'changes: too_small'],
    [
      'an unknown entity type',
      push({ changes: [change({ entityType: 'users' })] }),
      'changes.0.entityType: invalid_value',
    ],
    [
      'an unknown change type',
      push({ changes: [change({ changeType: 'UPSERT' })] }),
      'changes.0.changeType: invalid_value',
    ],
    [
      'a negative syncVersion',
      push({ changes: [change({ syncVersion: -1 })] }),
      'changes.0.syncVersion: too_small',
    ],
    [
      'a syncVersion over 2^31-1',
      push({ changes: [change({ syncVersion: MAX_SYNC_VERSION + 1 })] }),
      'changes.0.syncVersion: too_big',
    ],
    [
      'a fractional syncVersion',
      push({ changes: [change({ syncVersion: 1.5 })] }),
      'changes.0.syncVersion: invalid_type',
    ],
    [
      'a NUL in an id',
      push({ changes: [change({ entityId: 'a\u0000b' })] }),
      'changes.0.entityId: custom',
    ],
    [
      'an array changeData',
      push({ changes: [change({ changeData: [] })] }),
      'changes.0.changeData: invalid_type',
    ],
    [
      'a non-ISO updatedAt',
      push({ changes: [change({ updatedAt: 'yesterday' })] }),
      'changes.0.updatedAt: invalid_format',
    ],
    [
      'a 129-char requestId',
      push({ changes: [change({ requestId: 'r'.repeat(129) })] }),
      'changes.0.requestId: too_big',
    ],
  ])('refuses %s', (_what, body, issue) => {
    expect(issuesOf(body)).toContain(issue);
  });

  it(`takes up to ${MAX_CHANGES_PER_PUSH} changes by default and a configured limit otherwise`, () => {
    const many = (n: number) =>
      push({ changes: Array.from({ length: n }, (_, i) => change({ requestId: `e${i}` })) });
    expect(PushRequestSchema.safeParse(many(MAX_CHANGES_PER_PUSH)).success).toBe(true);
    expect(PushRequestSchema.safeParse(many(MAX_CHANGES_PER_PUSH + 1)).success).toBe(false);
    const small = createPushRequestSchema({ maxChanges: 2 });
    expect(small.safeParse(many(2)).success).toBe(true);
    expect(small.safeParse(many(3)).success).toBe(false);
  });

  it('accepts any valid change of any entity type', () => {
    const arbChange = fc.record({
      requestId: fc.string({ minLength: 1, maxLength: 128 }).filter((s) => !s.includes('\u0000')),
      entityType: fc.constantFrom(...ENTITY_SYNC_ORDER),
      entityId: fc.uuid(),
      changeType: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
      changeData: fc.dictionary(
        fc.string().filter((s) => !s.includes('\u0000')),
        fc.integer(),
      ),
      syncVersion: fc.integer({ min: 0, max: MAX_SYNC_VERSION }),
    });
    fc.assert(
      fc.property(fc.array(arbChange, { minLength: 1, maxLength: 20 }), (changes) => {
        expect(PushRequestSchema.safeParse(push({ changes })).success).toBe(true);
      }),
    );
  });
});

describe('PushResultSchema', () => {
  const result: PushResult = {
    syncOperationId: OP,
    successful: [
      {
        requestId: 'evt-1',
        clientId: 'local-s1',
        entityType: 'sessions',
        entityId: 'local-s1',
        serverId: '7d444840-9dc0-11d1-b245-5ffdce74fad2',
        changeType: 'CREATE',
        version: 1,
        outcome: 'APPLIED',
      },
    ],
    failed: [
      {
        requestId: 'evt-2',
        clientId: 'local-p1',
        entityType: 'purchases',
        entityId: 'local-p1',
        retryable: true,
        error: {
          code: 'FK_NOT_FOUND',
          message: 'productId names no product',
          details: [{ field: 'changeData.productId', message: 'not found' }],
        },
      },
    ],
    conflicts: [
      {
        conflictId: 'c-1',
        requestId: 'evt-3',
        clientId: 'g1',
        entityType: 'goals',
        entityId: 'g1',
        serverId: 'g1',
        strategy: 'MERGE',
        outcome: 'ADOPT_SERVER',
        clientVersion: 1,
        serverVersion: 3,
        serverState: { name: 'Run' },
        resolvedState: { name: 'Run', currentValue: 4 },
      },
    ],
    idMappings: [
      {
        entityType: 'sessions',
        clientId: 'local-s1',
        serverId: '7d444840-9dc0-11d1-b245-5ffdce74fad2',
      },
    ],
  };

  it('accepts the contract answer shape', () => {
    expect(PushResultSchema.parse(result)).toEqual(result);
  });

  it('refuses outcomes outside the contract', () => {
    const bad = { ...result, successful: [{ ...result.successful[0], outcome: 'CONFLICT' }] };
    expect(PushResultSchema.safeParse(bad).success).toBe(false);
  });

  it('allows a null resolvedState for MANUAL_REQUIRED', () => {
    const manual = {
      ...result,
      conflicts: [
        {
          ...result.conflicts[0],
          strategy: 'MANUAL',
          outcome: 'MANUAL_REQUIRED',
          resolvedState: null,
        },
      ],
    };
    expect(PushResultSchema.safeParse(manual).success).toBe(true);
  });
});
