import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import { ENTITY_CONFLICT_CONFIG } from './conflict-config.ts';
import { mergeEntity } from './custom-merges.ts';
import { patchArb, serverStateArb } from './entity-arbitraries.test-support.ts';
import { jsonEquals } from './json-equality.ts';
import { manualFieldsOf, resolveConflict } from './resolve-conflict.ts';
import { CONFLICT_STRATEGIES } from './strategies.ts';
import { applySyncConfig, configurableFields, parseSyncConfig } from './sync-config.ts';

const base = {
  id: 'srv-1',
  userId: 'user-1',
  version: 5,
  createdAt: '2024-05-01T09:00:00.000Z',
  updatedAt: '2024-05-01T10:00:00.000Z',
  deletedAt: null,
};

function resolve(
  entityType: EntityType,
  local: Record<string, unknown>,
  server: Record<string, unknown>,
  config = ENTITY_CONFLICT_CONFIG[entityType],
) {
  return resolveConflict({ entityType, config, local, server, localVersion: 3, serverVersion: 5 });
}

describe('resolveConflict — examples', () => {
  it('MERGE adopts the merged state and names the changed fields', () => {
    const server = { ...base, status: 'PAUSED', notes: 'old' };
    expect(resolve('sessions', { status: 'ACTIVE', notes: 'new' }, server)).toEqual({
      strategy: 'MERGE',
      outcome: 'ADOPT_SERVER',
      resolvedState: { ...server, notes: 'new' },
      changedFields: ['notes'],
    });
  });

  it('a merge that keeps every server value changes no field', () => {
    const server = { ...base, status: 'COMPLETED', notes: 'same' };
    expect(resolve('sessions', { status: 'ACTIVE', notes: 'same' }, server)).toMatchObject({
      outcome: 'ADOPT_SERVER',
      resolvedState: server,
      changedFields: [],
    });
  });

  it('SERVER_WINS adopts the server state with the LOCAL_WINS fields applied', () => {
    const server = { ...base, deviceName: 'old', firmwareVersion: '1.0' };
    expect(resolve('devices', { deviceName: 'new', firmwareVersion: '2.0' }, server)).toEqual({
      strategy: 'SERVER_WINS',
      outcome: 'ADOPT_SERVER',
      resolvedState: { ...server, deviceName: 'new' },
      changedFields: ['deviceName'],
    });
  });

  it('MANUAL stores the conflict as pending: MANUAL_REQUIRED, no resolved state', () => {
    const config = parseSyncConfig({ entities: { goals: { defaultStrategy: 'MANUAL' } } });
    if (!config.ok) throw new Error(config.message);
    const configs = applySyncConfig(ENTITY_CONFLICT_CONFIG, config.config);
    expect(resolve('goals', { name: 'B' }, { ...base, name: 'A' }, configs.goals)).toEqual({
      strategy: 'MANUAL',
      outcome: 'MANUAL_REQUIRED',
      resolvedState: null,
      changedFields: [],
    });
  });

  it('an append-only entity never conflicts: SKIPPED, the stored state unchanged', () => {
    const server = {
      ...base,
      model: 'm',
      inputTokens: 1,
      outputTokens: 2,
      totalCost: 0.1,
      timestamp: base.createdAt,
    };
    expect(resolve('ai_usage_records', { inputTokens: 99 }, server)).toEqual({
      strategy: 'SERVER_WINS',
      outcome: 'SKIPPED',
      resolvedState: server,
      changedFields: [],
    });
  });

  it('an UPDATE of a tombstone adopts the tombstone under SERVER_WINS, also when MANUAL is configured', () => {
    const tombstone = { ...base, deletedAt: '2024-05-01T11:00:00.000Z', name: 'A' };
    const manual = { ...ENTITY_CONFLICT_CONFIG.goals, defaultStrategy: 'MANUAL' as const };
    for (const config of [ENTITY_CONFLICT_CONFIG.goals, manual]) {
      expect(resolve('goals', { name: 'B' }, tombstone, config)).toEqual({
        strategy: 'SERVER_WINS',
        outcome: 'ADOPT_SERVER',
        resolvedState: tombstone,
        changedFields: [],
      });
    }
  });

  it('journal entries resolve with their custom merge', () => {
    const server = { ...base, reactions: { mood: 1 }, tags: [] };
    const result = resolve('journal_entries', { reactions: { sleep: 2 } }, server);
    expect(result.resolvedState?.reactions).toEqual({ mood: 1, sleep: 2 });
  });
});

describe.each(ENTITY_SYNC_ORDER)('resolveConflict on %s — properties', (entityType) => {
  it('the outcome follows the strategy and changedFields lists exactly the differing fields', () => {
    fc.assert(
      fc.property(
        serverStateArb(entityType),
        patchArb(entityType),
        fc.constantFrom(...CONFLICT_STRATEGIES),
        (server, local, strategy) => {
          const config = { ...ENTITY_CONFLICT_CONFIG[entityType], defaultStrategy: strategy };
          const input = {
            entityType,
            config,
            local,
            server,
            localVersion: 1,
            serverVersion: server.version as number,
          };
          const result = resolveConflict(input);
          if (config.conflictFree) {
            expect(result).toMatchObject({
              outcome: 'SKIPPED',
              resolvedState: server,
              changedFields: [],
            });
          } else if (strategy === 'MANUAL') {
            expect(result).toEqual({
              strategy,
              outcome: 'MANUAL_REQUIRED',
              resolvedState: null,
              changedFields: [],
            });
          } else {
            const merged = mergeEntity(input);
            expect(result).toMatchObject({
              strategy,
              outcome: 'ADOPT_SERVER',
              resolvedState: merged,
            });
            const differing = Object.keys(server).filter((f) => !jsonEquals(server[f], merged[f]));
            expect([...result.changedFields].sort()).toEqual(differing.sort());
          }
        },
      ),
    );
  });
});

describe('resolveConflict — field-level MANUAL (SYNC_CONFIG)', () => {
  function manualName() {
    const parsed = parseSyncConfig({
      entities: { products: { fieldPolicies: { name: 'MANUAL' } } },
    });
    if (!parsed.ok) throw new Error(parsed.message);
    return applySyncConfig(ENTITY_CONFLICT_CONFIG, parsed.config).products;
  }

  it('a stale UPDATE that changes a MANUAL field is pending: MANUAL_REQUIRED, nothing resolved', () => {
    const server = { ...base, name: 'Server name', description: 'd', effects: [], isPublic: false };
    expect(
      resolve('products', { name: 'Client name', description: 'x' }, server, manualName()),
    ).toEqual({
      strategy: 'MANUAL',
      outcome: 'MANUAL_REQUIRED',
      resolvedState: null,
      changedFields: [],
    });
  });

  it('a stale UPDATE that leaves the MANUAL field alone is merged as usual', () => {
    const server = { ...base, name: 'Same', description: 'd', effects: [], isPublic: false };
    for (const local of [{ description: 'x' }, { name: 'Same', description: 'x' }]) {
      expect(resolve('products', local, server, manualName())).toEqual({
        strategy: 'MERGE',
        outcome: 'ADOPT_SERVER',
        resolvedState: { ...server, description: 'x' },
        changedFields: ['description'],
      });
    }
  });

  it('manualFieldsOf names exactly the patched MANUAL fields whose value differs', () => {
    const config = manualName();
    const server = { ...base, name: 'A', description: 'd', effects: [], isPublic: false };
    const input = (local: Record<string, unknown>) => ({
      entityType: 'products' as const,
      config,
      local,
      server,
      localVersion: 3,
      serverVersion: 5,
    });
    expect(manualFieldsOf(input({ name: 'B', description: 'd2' }))).toEqual(['name']);
    expect(manualFieldsOf(input({ name: 'A' }))).toEqual([]);
    expect(manualFieldsOf(input({ description: 'd2' }))).toEqual([]);
  });

  it('a forced merge (resolving with MERGE and no merged data) keeps the MANUAL field as stored', () => {
    const config = manualName();
    const server = { ...base, name: 'A', description: 'd', effects: ['x'], isPublic: false };
    const merged = mergeEntity({
      entityType: 'products',
      config,
      local: { name: 'B', effects: ['y'] },
      server,
      localVersion: 3,
      serverVersion: 5,
    });
    expect(merged).toEqual({ ...server, effects: ['x', 'y'] });
  });

  it.each(ENTITY_SYNC_ORDER.filter((t) => !ENTITY_CONFLICT_CONFIG[t].conflictFree))(
    'on %s: MANUAL_REQUIRED exactly when a patched MANUAL field differs from the stored value',
    (entityType) => {
      const fields = configurableFields(entityType);
      fc.assert(
        fc.property(
          serverStateArb(entityType),
          patchArb(entityType),
          fc.subarray(fields, { minLength: 1 }),
          (server, local, manualFields) => {
            const parsed = parseSyncConfig({
              entities: {
                [entityType]: {
                  fieldPolicies: Object.fromEntries(manualFields.map((f) => [f, 'MANUAL'])),
                },
              },
            });
            if (!parsed.ok) throw new Error(parsed.message);
            const config = applySyncConfig(ENTITY_CONFLICT_CONFIG, parsed.config)[entityType];
            const result = resolveConflict({
              entityType,
              config,
              local,
              server,
              localVersion: 1,
              serverVersion: server.version as number,
            });
            const touched = manualFields.filter(
              (f) => local[f] !== undefined && !jsonEquals(local[f], server[f]),
            );
            if (server.deletedAt !== null && server.deletedAt !== undefined) {
              expect(result.outcome).toBe('ADOPT_SERVER');
            } else if (touched.length > 0) {
              expect(result).toMatchObject({ strategy: 'MANUAL', outcome: 'MANUAL_REQUIRED' });
            } else {
              expect(result.outcome).toBe('ADOPT_SERVER');
              // The MANUAL fields keep their stored values in the merged state.
              for (const f of manualFields) {
                expect(jsonEquals(result.resolvedState?.[f], server[f])).toBe(true);
              }
            }
          },
        ),
        { numRuns: 50 },
      );
    },
  );
});
