import { describe, expect, it } from 'vitest';
import { SERVER_MANAGED_FIELDS } from '../entities/define-entity.ts';
import { ENTITY_SYNC_ORDER } from '../entities/entity-types.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';
import { ENTITY_CONFLICT_CONFIG, getConflictConfig } from './conflict-config.ts';
import { CUSTOM_MERGES } from './custom-merges.ts';
import { parseSyncConfig } from './sync-config.ts';

const SESSION_TRANSITIONS = ['ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED'];

describe('ENTITY_CONFLICT_CONFIG', () => {
  it('is exactly the table of CONTRACT §3', () => {
    expect(ENTITY_CONFLICT_CONFIG).toStrictEqual({
      sessions: {
        defaultStrategy: 'MERGE',
        fieldPolicies: {
          status: { policy: 'MONOTONIC', transitions: SESSION_TRANSITIONS },
          notes: { policy: 'LOCAL_WINS' },
        },
        serverDerivedFields: [
          'eventCount',
          'totalDurationMs',
          'sessionStartTimestamp',
          'sessionEndTimestamp',
        ],
        requiresCustomMerge: false,
        conflictFree: false,
      },
      consumptions: {
        defaultStrategy: 'MERGE',
        fieldPolicies: {
          notes: { policy: 'LOCAL_WINS' },
          intensity: { policy: 'LOCAL_WINS' },
          timestamp: { policy: 'LAST_WRITE_WINS' },
        },
        serverDerivedFields: ['sessionId', 'userId'],
        requiresCustomMerge: false,
        conflictFree: false,
      },
      journal_entries: {
        // "MERGE (custom)": reactions are deep-merged by the custom merge, not by a policy.
        defaultStrategy: 'MERGE',
        fieldPolicies: {
          content: { policy: 'LOCAL_WINS' },
          tags: { policy: 'MERGE_ARRAYS' },
          symptoms: { policy: 'MERGE_ARRAYS' },
        },
        serverDerivedFields: ['sessionId', 'consumptionId', 'productId'],
        requiresCustomMerge: true,
        conflictFree: false,
      },
      purchases: {
        defaultStrategy: 'MERGE',
        fieldPolicies: {
          quantityPurchased: { policy: 'LOCAL_WINS' },
          isActive: { policy: 'LAST_WRITE_WINS' },
        },
        serverDerivedFields: ['userId', 'productId'],
        requiresCustomMerge: false,
        conflictFree: false,
      },
      devices: {
        defaultStrategy: 'SERVER_WINS',
        fieldPolicies: { deviceName: { policy: 'LOCAL_WINS' }, settings: { policy: 'LOCAL_WINS' } },
        serverDerivedFields: ['macAddress', 'serialNumber', 'userId'],
        requiresCustomMerge: false,
        conflictFree: false,
      },
      products: {
        defaultStrategy: 'MERGE',
        fieldPolicies: {
          name: { policy: 'LOCAL_WINS' },
          description: { policy: 'LOCAL_WINS' },
          effects: { policy: 'MERGE_ARRAYS' },
          isPublic: { policy: 'SERVER_WINS' },
        },
        serverDerivedFields: ['userId'],
        requiresCustomMerge: false,
        conflictFree: false,
      },
      goals: {
        defaultStrategy: 'MERGE',
        fieldPolicies: {
          currentValue: { policy: 'MAX_VALUE' },
          name: { policy: 'LOCAL_WINS' },
          status: { policy: 'LAST_WRITE_WINS' },
        },
        serverDerivedFields: ['userId'],
        requiresCustomMerge: false,
        conflictFree: false,
      },
      inventory_items: {
        defaultStrategy: 'MERGE',
        fieldPolicies: {
          quantityRemaining: { policy: 'MAX_VALUE' },
          isActive: { policy: 'LOCAL_WINS' },
        },
        serverDerivedFields: ['userId', 'productId'],
        requiresCustomMerge: false,
        conflictFree: false,
      },
      ai_usage_records: {
        defaultStrategy: 'SERVER_WINS',
        fieldPolicies: {},
        serverDerivedFields: ['inputTokens', 'outputTokens', 'totalCost', 'timestamp'],
        requiresCustomMerge: false,
        conflictFree: true,
      },
    });
  });

  it('covers every entity type and nothing else', () => {
    expect(Object.keys(ENTITY_CONFLICT_CONFIG).sort()).toEqual([...ENTITY_SYNC_ORDER].sort());
  });

  it('is deep-frozen', () => {
    expect(Object.isFrozen(ENTITY_CONFLICT_CONFIG)).toBe(true);
    for (const type of ENTITY_SYNC_ORDER) {
      const config = getConflictConfig(type);
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.fieldPolicies)).toBe(true);
      expect(Object.isFrozen(config.serverDerivedFields)).toBe(true);
      for (const policy of Object.values(config.fieldPolicies)) {
        expect(Object.isFrozen(policy)).toBe(true);
        if (policy.transitions) expect(Object.isFrozen(policy.transitions)).toBe(true);
      }
    }
  });

  it.each(ENTITY_SYNC_ORDER)('%s names only fields the entity has', (type) => {
    const config = ENTITY_CONFLICT_CONFIG[type];
    const fields = Object.keys(ENTITY_REGISTRY[type].fields);
    const managed: readonly string[] = SERVER_MANAGED_FIELDS;
    for (const field of Object.keys(config.fieldPolicies)) expect(fields).toContain(field);
    for (const field of config.serverDerivedFields)
      expect([...fields, ...managed]).toContain(field);
  });

  it.each(ENTITY_SYNC_ORDER)('%s has a custom merge exactly when it requires one', (type) => {
    expect(CUSTOM_MERGES[type] !== undefined).toBe(
      ENTITY_CONFLICT_CONFIG[type].requiresCustomMerge,
    );
  });

  it('is itself a valid SYNC_CONFIG (every policy fits its field)', () => {
    const entities = Object.fromEntries(
      ENTITY_SYNC_ORDER.filter((type) => !ENTITY_CONFLICT_CONFIG[type].conflictFree).map((type) => [
        type,
        ENTITY_CONFLICT_CONFIG[type],
      ]),
    );
    const asOverride = Object.fromEntries(
      Object.entries(entities).map(([type, c]) => [
        type,
        { defaultStrategy: c.defaultStrategy, fieldPolicies: c.fieldPolicies },
      ]),
    );
    const result = parseSyncConfig({ entities: asOverride });
    expect(result).toMatchObject({ ok: true });
  });
});
