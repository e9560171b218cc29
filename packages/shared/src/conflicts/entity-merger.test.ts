import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERVER_MANAGED_FIELDS } from '../entities/define-entity.ts';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';
import { ENTITY_CONFLICT_CONFIG, type EntityConflictConfig } from './conflict-config.ts';
import { mergeEntity } from './custom-merges.ts';
import { deepFreeze } from './deep-freeze.ts';
import {
  fallbackPolicyFor,
  isServerKeptField,
  mergeEntityInternal,
  type MergeEntityInput,
} from './entity-merger.ts';
import {
  hostilePatchArb,
  isoTimestampArb,
  patchArb,
  pickWritable,
  serverStateArb,
  withoutDuplicateElements,
} from './entity-arbitraries.test-support.ts';
import { CONFLICT_STRATEGIES } from './strategies.ts';

const OLDER = '2024-05-01T10:00:00.000Z';
const NEWER = '2024-05-01T11:00:00.000Z';

function managed(overrides: Record<string, unknown> = {}) {
  return {
    id: 'srv-1',
    userId: 'user-1',
    version: 5,
    createdAt: '2024-05-01T09:00:00.000Z',
    updatedAt: OLDER,
    deletedAt: null,
    ...overrides,
  };
}

function merge(
  entityType: EntityType,
  local: Record<string, unknown>,
  server: Record<string, unknown>,
  extra: Partial<MergeEntityInput> = {},
) {
  return mergeEntity({
    entityType,
    config: ENTITY_CONFLICT_CONFIG[entityType],
    local,
    server,
    localVersion: 3,
    serverVersion: 5,
    ...extra,
  });
}

describe('mergeEntityInternal — examples', () => {
  it('stale UPDATE keeps the later MONOTONIC status', () => {
    const server = { ...managed(), status: 'COMPLETED', notes: 'done' };
    expect(merge('sessions', { status: 'ACTIVE' }, server).status).toBe('COMPLETED');
  });

  it('stale UPDATE advances a MONOTONIC status that is still earlier on the server', () => {
    const server = { ...managed(), status: 'PAUSED' };
    expect(merge('sessions', { status: 'CANCELLED' }, server).status).toBe('CANCELLED');
  });

  it('session aggregates stay server-derived whatever the client sends', () => {
    const server = { ...managed(), status: 'ACTIVE', eventCount: 4, totalDurationMs: 900 };
    const merged = merge('sessions', { eventCount: 0, totalDurationMs: 1, notes: 'mine' }, server);
    expect(merged).toMatchObject({ eventCount: 4, totalDurationMs: 900, notes: 'mine' });
  });

  it('consumption notes and intensity are the client’s, sessionId the server’s', () => {
    const server = { ...managed(), notes: 'old', intensity: 2, sessionId: 's-1', quantity: 1 };
    const merged = merge('consumptions', { notes: 'new', intensity: 7, sessionId: 's-2' }, server);
    expect(merged).toMatchObject({ notes: 'new', intensity: 7, sessionId: 's-1', quantity: 1 });
  });

  it('consumption timestamp follows the newer write', () => {
    const server = { ...managed({ updatedAt: OLDER }), timestamp: '2024-01-01T00:00:00.000Z' };
    const local = { timestamp: '2024-02-02T00:00:00.000Z' };
    expect(merge('consumptions', local, server, { localUpdatedAt: NEWER }).timestamp).toBe(
      local.timestamp,
    );
    const newerServer = { ...server, updatedAt: '2024-05-02T00:00:00.000Z' };
    expect(merge('consumptions', local, newerServer, { localUpdatedAt: NEWER }).timestamp).toBe(
      server.timestamp,
    );
  });

  it('a field without a policy under MERGE is last-write-wins, the server winning without times', () => {
    const server = { ...managed(), quantity: 1 };
    expect(merge('consumptions', { quantity: 9 }, server).quantity).toBe(1);
    expect(merge('consumptions', { quantity: 9 }, server, { localUpdatedAt: NEWER }).quantity).toBe(
      9,
    );
  });

  it('an explicit serverUpdatedAt takes precedence over the state’s updatedAt', () => {
    const server = { ...managed({ updatedAt: OLDER }), quantity: 1 };
    const merged = merge('consumptions', { quantity: 9 }, server, {
      localUpdatedAt: NEWER,
      serverUpdatedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(merged.quantity).toBe(1);
  });

  it('journal tags and symptoms are unions, content the client’s, references the server’s', () => {
    const server = {
      ...managed(),
      content: 'a',
      tags: ['calm', 'sleep'],
      symptoms: [],
      productId: 'p-1',
      reactions: {},
    };
    const merged = merge(
      'journal_entries',
      { content: 'b', tags: ['focus', 'calm'], symptoms: ['dry mouth'], productId: 'p-2' },
      server,
    );
    expect(merged).toMatchObject({
      content: 'b',
      tags: ['calm', 'sleep', 'focus'],
      symptoms: ['dry mouth'],
      productId: 'p-1',
    });
  });

  it('devices keep the server’s value for fields without a policy (SERVER_WINS)', () => {
    const server = {
      ...managed(),
      deviceName: 'old',
      firmwareVersion: '1.0',
      macAddress: 'aa',
      settings: { a: 1 },
    };
    const merged = merge(
      'devices',
      { deviceName: 'new', firmwareVersion: '2.0', macAddress: 'bb', settings: { b: 2 } },
      server,
      {
        localUpdatedAt: NEWER,
      },
    );
    expect(merged).toMatchObject({
      deviceName: 'new',
      firmwareVersion: '1.0',
      macAddress: 'aa',
      settings: { b: 2 },
    });
  });

  it('products keep isPublic server-side, union effects and take the client’s name', () => {
    const server = { ...managed(), name: 'A', description: null, effects: ['x'], isPublic: true };
    const merged = merge(
      'products',
      { name: 'B', effects: ['y', 'x'], isPublic: false, description: 'd' },
      server,
    );
    expect(merged).toMatchObject({
      name: 'B',
      description: 'd',
      effects: ['x', 'y'],
      isPublic: true,
    });
  });

  it('goal progress and inventory quantity never go down in a conflict (MAX_VALUE)', () => {
    expect(
      merge('goals', { currentValue: 3 }, { ...managed(), currentValue: 8 }).currentValue,
    ).toBe(8);
    expect(
      merge('goals', { currentValue: 12 }, { ...managed(), currentValue: 8 }).currentValue,
    ).toBe(12);
    const item = { ...managed(), quantityRemaining: 4, isActive: true, productId: 'p-1' };
    expect(merge('inventory_items', { quantityRemaining: 2, isActive: false }, item)).toMatchObject(
      {
        quantityRemaining: 4,
        isActive: false,
      },
    );
  });

  it('purchases keep productId server-side and follow the newer write for isActive', () => {
    const server = { ...managed(), quantityPurchased: 1, isActive: true, productId: 'p-1' };
    const merged = merge(
      'purchases',
      { quantityPurchased: 2, isActive: false, productId: 'p-9' },
      server,
      { localUpdatedAt: NEWER },
    );
    expect(merged).toMatchObject({ quantityPurchased: 2, isActive: false, productId: 'p-1' });
  });

  it('server-managed fields in the patch are ignored', () => {
    const server = { ...managed(), name: 'A' };
    const merged = merge(
      'goals',
      {
        id: 'x',
        userId: 'other',
        version: 99,
        createdAt: NEWER,
        updatedAt: NEWER,
        deletedAt: NEWER,
      },
      server,
    );
    expect(merged).toEqual(server);
  });

  it('a name that is no field of the entity is never added', () => {
    const merged = merge('goals', { colour: 'red' }, { ...managed(), name: 'A' });
    expect(merged).not.toHaveProperty('colour');
  });

  it('fields absent from the patch keep the server value', () => {
    const server = { ...managed(), name: 'A', targetValue: 10, currentValue: 1, status: 'ACTIVE' };
    expect(merge('goals', { name: 'B' }, server)).toEqual({ ...server, name: 'B' });
  });

  it('a LOCAL_WINS strategy takes the client value of fields without a policy', () => {
    const config: EntityConflictConfig = {
      ...ENTITY_CONFLICT_CONFIG.goals,
      defaultStrategy: 'LOCAL_WINS',
    };
    const server = { ...managed(), targetValue: 10, currentValue: 8 };
    const merged = mergeEntityInternal({
      entityType: 'goals',
      config,
      local: { targetValue: 20, currentValue: 1 },
      server,
      localVersion: 1,
      serverVersion: 5,
    });
    expect(merged).toMatchObject({ targetValue: 20, currentValue: 8 });
  });

  it('names the fallback policy of every strategy', () => {
    expect(CONFLICT_STRATEGIES.map((s) => [s, fallbackPolicyFor(s)])).toEqual([
      ['MERGE', 'LAST_WRITE_WINS'],
      ['SERVER_WINS', 'SERVER_WINS'],
      ['LOCAL_WINS', 'LOCAL_WINS'],
      ['LAST_WRITE_WINS', 'LAST_WRITE_WINS'],
      ['MANUAL', 'LAST_WRITE_WINS'],
    ]);
  });
});

const inputArb = (entityType: EntityType, patch = patchArb(entityType)) =>
  fc.record({
    server: serverStateArb(entityType),
    local: patch,
    strategy: fc.constantFrom(...CONFLICT_STRATEGIES),
    localUpdatedAt: fc.option(isoTimestampArb, { nil: undefined }),
    localVersion: fc.integer({ min: 0, max: 60 }),
  });

function inputFor(
  entityType: EntityType,
  sample: {
    server: Record<string, unknown>;
    local: Record<string, unknown>;
    strategy: EntityConflictConfig['defaultStrategy'];
    localUpdatedAt: string | undefined;
    localVersion: number;
  },
): MergeEntityInput {
  return deepFreeze({
    entityType,
    config: { ...ENTITY_CONFLICT_CONFIG[entityType], defaultStrategy: sample.strategy },
    local: sample.local,
    server: sample.server,
    localUpdatedAt: sample.localUpdatedAt,
    localVersion: sample.localVersion,
    serverVersion: sample.server.version as number,
  });
}

describe.each(ENTITY_SYNC_ORDER)('merging %s — properties', (entityType) => {
  const managedFields: readonly string[] = SERVER_MANAGED_FIELDS;

  it('server-managed, server-derived and unknown fields always keep the server value', () => {
    fc.assert(
      fc.property(inputArb(entityType, hostilePatchArb(entityType)), (sample) => {
        const input = inputFor(entityType, sample);
        const merged = mergeEntity(input);
        const kept = [
          ...managedFields,
          ...input.config.serverDerivedFields,
          ...Object.keys(ENTITY_REGISTRY[entityType].fields).filter(
            (f) => ENTITY_REGISTRY[entityType].fields[f]?.derived,
          ),
        ];
        for (const field of kept) {
          expect(isServerKeptField(entityType, input.config, field)).toBe(true);
          expect(merged[field]).toStrictEqual(sample.server[field]);
        }
        expect(Object.keys(merged).sort()).toEqual(Object.keys(sample.server).sort());
      }),
    );
  });

  it('fields absent from the patch keep the server value', () => {
    fc.assert(
      fc.property(inputArb(entityType), (sample) => {
        const merged = mergeEntity(inputFor(entityType, sample));
        for (const field of Object.keys(sample.server).filter((f) => !(f in sample.local))) {
          expect(merged[field]).toStrictEqual(sample.server[field]);
        }
      }),
    );
  });

  it('the merged client fields pass the entity’s updateSchema', () => {
    fc.assert(
      fc.property(inputArb(entityType), (sample) => {
        const schema = ENTITY_REGISTRY[entityType].updateSchema;
        expect(schema.safeParse(pickWritable(entityType, sample.server)).success).toBe(true);
        expect(schema.safeParse(sample.local).success).toBe(true);
        const merged = mergeEntity(inputFor(entityType, sample));
        const result = schema.safeParse(pickWritable(entityType, merged));
        expect(result.success ? [] : result.error.issues).toEqual([]);
      }),
    );
  });

  it('merging a state with itself changes nothing (once its arrays hold no duplicates)', () => {
    fc.assert(
      fc.property(inputArb(entityType), (sample) => {
        const server = withoutDuplicateElements(entityType, sample.server);
        const merged = mergeEntity(
          inputFor(entityType, { ...sample, server, local: pickWritable(entityType, server) }),
        );
        expect(merged).toStrictEqual(server);
      }),
    );
  });

  it('merging the merged state with itself changes nothing', () => {
    fc.assert(
      fc.property(inputArb(entityType), (sample) => {
        const server = withoutDuplicateElements(entityType, sample.server);
        const once = mergeEntity(inputFor(entityType, { ...sample, server }));
        const again = mergeEntity(
          inputFor(entityType, { ...sample, server: once, local: pickWritable(entityType, once) }),
        );
        expect(again).toStrictEqual(once);
      }),
    );
  });

  it('does not modify its inputs', () => {
    fc.assert(
      fc.property(inputArb(entityType, hostilePatchArb(entityType)), (sample) => {
        const before = JSON.stringify(sample);
        // inputFor deep-freezes the inputs: a write to them would throw in strict mode.
        mergeEntity(inputFor(entityType, sample));
        expect(JSON.stringify(sample)).toBe(before);
      }),
    );
  });
});
