import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import { ENTITY_CONFLICT_CONFIG } from './conflict-config.ts';
import { mergeEntity } from './custom-merges.ts';
import { patchArb, serverStateArb } from './entity-arbitraries.test-support.ts';
import { jsonEquals } from './json-equality.ts';
import { resolveConflict } from './resolve-conflict.ts';
import { CONFLICT_STRATEGIES } from './strategies.ts';
import { applySyncConfig, parseSyncConfig } from './sync-config.ts';

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
