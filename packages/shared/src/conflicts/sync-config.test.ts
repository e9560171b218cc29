import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import { ENTITY_CONFLICT_CONFIG } from './conflict-config.ts';
import { CONFLICT_STRATEGIES, FIELD_POLICY } from './strategies.ts';
import {
  applySyncConfig,
  configurableFields,
  parseSyncConfig,
  parseSyncConfigText,
  type SyncConfig,
} from './sync-config.ts';

const CONTRACT_EXAMPLE = {
  entities: {
    goals: { defaultStrategy: 'MANUAL' },
    products: { fieldPolicies: { name: 'SERVER_WINS' } },
  },
};

function parsedOrThrow(json: unknown): SyncConfig {
  const result = parseSyncConfig(json);
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

describe('parseSyncConfig — accepts', () => {
  it("the contract's example, normalizing a policy name to {policy}", () => {
    expect(parsedOrThrow(CONTRACT_EXAMPLE)).toEqual({
      entities: {
        goals: { defaultStrategy: 'MANUAL' },
        products: { fieldPolicies: { name: { policy: 'SERVER_WINS' } } },
      },
    });
  });

  it('an empty file and an empty entities map', () => {
    expect(parsedOrThrow({})).toEqual({});
    expect(parsedOrThrow({ entities: {} })).toEqual({ entities: {} });
  });

  it('MONOTONIC shorthand on sessions.status, keeping the declared transitions', () => {
    expect(
      parsedOrThrow({ entities: { sessions: { fieldPolicies: { status: 'MONOTONIC' } } } }),
    ).toEqual({
      entities: {
        sessions: {
          fieldPolicies: {
            status: {
              policy: 'MONOTONIC',
              transitions: ['ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED'],
            },
          },
        },
      },
    });
  });

  it('MONOTONIC with explicit transitions over an enum field', () => {
    const json = {
      entities: {
        goals: {
          fieldPolicies: { status: { policy: 'MONOTONIC', transitions: ['ACTIVE', 'ACHIEVED'] } },
        },
      },
    };
    expect(parsedOrThrow(json).entities?.goals?.fieldPolicies?.status).toEqual({
      policy: 'MONOTONIC',
      transitions: ['ACTIVE', 'ACHIEVED'],
    });
  });

  it('MANUAL on any configurable field of any entity that can conflict, whatever its kind', () => {
    for (const type of ENTITY_SYNC_ORDER.filter((t) => !ENTITY_CONFLICT_CONFIG[t].conflictFree)) {
      const fieldPolicies = Object.fromEntries(configurableFields(type).map((f) => [f, 'MANUAL']));
      const config = parsedOrThrow({ entities: { [type]: { fieldPolicies } } });
      const applied = applySyncConfig(ENTITY_CONFLICT_CONFIG, config)[type];
      for (const field of configurableFields(type)) {
        expect(applied.fieldPolicies[field], `${type}.${field}`).toEqual({ policy: 'MANUAL' });
      }
      expect(applied.defaultStrategy).toBe(ENTITY_CONFLICT_CONFIG[type].defaultStrategy);
    }
  });

  it('MANUAL as the default strategy of any entity that can conflict', () => {
    for (const type of ENTITY_SYNC_ORDER.filter((t) => !ENTITY_CONFLICT_CONFIG[t].conflictFree)) {
      const config = parsedOrThrow({ entities: { [type]: { defaultStrategy: 'MANUAL' } } });
      expect(applySyncConfig(ENTITY_CONFLICT_CONFIG, config)[type].defaultStrategy).toBe('MANUAL');
    }
  });

  it('a text file holding valid JSON', () => {
    expect(parseSyncConfigText(JSON.stringify(CONTRACT_EXAMPLE))).toMatchObject({ ok: true });
  });
});

describe('parseSyncConfig — rejects with the bad path in a one-line message', () => {
  const cases: [string, unknown, string, string][] = [
    ['a non-object file', [], '(root)', 'expected object'],
    ['an unknown top-level key', { entity: {} }, 'entity', 'unknown key (allowed: entities)'],
    [
      'an unknown entity type',
      { entities: { widgets: {} } },
      'entities.widgets',
      'unknown entity type',
    ],
    [
      'an unknown entity key',
      { entities: { goals: { strategy: 'MANUAL' } } },
      'entities.goals.strategy',
      'unknown key',
    ],
    [
      'an unknown strategy',
      { entities: { goals: { defaultStrategy: 'OLDEST_WINS' } } },
      'entities.goals.defaultStrategy',
      'MANUAL',
    ],
    [
      'an unknown field',
      { entities: { products: { fieldPolicies: { nmae: 'LOCAL_WINS' } } } },
      'entities.products.fieldPolicies.nmae',
      'unknown field of products',
    ],
    [
      'a server-managed field',
      { entities: { products: { fieldPolicies: { version: 'LOCAL_WINS' } } } },
      'entities.products.fieldPolicies.version',
      'unknown field',
    ],
    [
      'a server-derived field',
      { entities: { sessions: { fieldPolicies: { eventCount: 'LOCAL_WINS' } } } },
      'entities.sessions.fieldPolicies.eventCount',
      'server-derived',
    ],
    [
      'a field the config keeps server-side',
      { entities: { devices: { fieldPolicies: { macAddress: 'LOCAL_WINS' } } } },
      'entities.devices.fieldPolicies.macAddress',
      'server-derived',
    ],
    [
      'an unknown policy name',
      { entities: { products: { fieldPolicies: { name: 'NEWEST' } } } },
      'entities.products.fieldPolicies.name',
      'LOCAL_WINS',
    ],
    [
      'an unknown policy in object form',
      { entities: { products: { fieldPolicies: { name: { policy: 'NEWEST' } } } } },
      'entities.products.fieldPolicies.name.policy',
      'LOCAL_WINS',
    ],
    [
      'an unknown key in object form',
      { entities: { products: { fieldPolicies: { name: { policy: 'LOCAL_WINS', why: 1 } } } } },
      'entities.products.fieldPolicies.name.why',
      'unknown key',
    ],
    [
      'a policy that is neither name nor object',
      { entities: { products: { fieldPolicies: { name: 42 } } } },
      'entities.products.fieldPolicies.name',
      'field policy name',
    ],
    [
      'MONOTONIC without transitions on a field that has none',
      { entities: { goals: { fieldPolicies: { status: 'MONOTONIC' } } } },
      'entities.goals.fieldPolicies.status',
      'needs "transitions"',
    ],
    [
      'a transition that is not a value of the field',
      {
        entities: {
          goals: {
            fieldPolicies: { status: { policy: 'MONOTONIC', transitions: ['ACTIVE', 'DONE'] } },
          },
        },
      },
      'entities.goals.fieldPolicies.status.transitions.1',
      'DONE',
    ],
    [
      'a repeated transition',
      {
        entities: {
          sessions: {
            fieldPolicies: { status: { policy: 'MONOTONIC', transitions: ['ACTIVE', 'ACTIVE'] } },
          },
        },
      },
      'entities.sessions.fieldPolicies.status.transitions.1',
      'duplicate',
    ],
    [
      'transitions on another policy',
      {
        entities: {
          goals: { fieldPolicies: { name: { policy: 'LOCAL_WINS', transitions: ['a'] } } },
        },
      },
      'entities.goals.fieldPolicies.name.transitions',
      'only to MONOTONIC',
    ],
    [
      'MAX_VALUE on a text field',
      { entities: { goals: { fieldPolicies: { name: 'MAX_VALUE' } } } },
      'entities.goals.fieldPolicies.name',
      'does not apply to a text field',
    ],
    [
      'MERGE_ARRAYS on a number field',
      { entities: { goals: { fieldPolicies: { currentValue: 'MERGE_ARRAYS' } } } },
      'entities.goals.fieldPolicies.currentValue',
      'does not apply',
    ],
    [
      'an override of a conflict-free entity',
      { entities: { ai_usage_records: { defaultStrategy: 'MERGE' } } },
      'entities.ai_usage_records',
      'conflict-free',
    ],
  ];

  it.each(cases)('%s', (_name, json, path, fragment) => {
    const result = parseSyncConfig(json);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain(`${path}: `);
    expect(result.message).toContain(fragment);
    expect(result.message).not.toContain('\n');
    expect(result.issues.map((i) => i.path)).toContain(path);
  });

  it('names every bad path when there are several', () => {
    const result = parseSyncConfig({ entities: { goals: { defaultStrategy: 'X' }, widgets: {} } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('entities.goals.defaultStrategy');
    expect(result.message).toContain('entities.widgets');
  });

  it('text that is not JSON', () => {
    const result = parseSyncConfigText('{"entities": ');
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) {
      expect(result.message).toMatch(/^invalid SYNC_CONFIG: not valid JSON/);
      expect(result.message).not.toContain('\n');
    }
  });
});

describe('applySyncConfig', () => {
  it("applies the contract's example and leaves everything else as declared", () => {
    const configs = applySyncConfig(ENTITY_CONFLICT_CONFIG, parsedOrThrow(CONTRACT_EXAMPLE));
    expect(configs.goals).toEqual({ ...ENTITY_CONFLICT_CONFIG.goals, defaultStrategy: 'MANUAL' });
    expect(configs.products.fieldPolicies).toEqual({
      ...ENTITY_CONFLICT_CONFIG.products.fieldPolicies,
      name: { policy: 'SERVER_WINS' },
    });
    expect(configs.products.defaultStrategy).toBe('MERGE');
    for (const type of ENTITY_SYNC_ORDER.filter((t) => t !== 'goals' && t !== 'products')) {
      expect(configs[type]).toEqual(ENTITY_CONFLICT_CONFIG[type]);
    }
  });

  it('returns a new deep-frozen map and leaves the base untouched', () => {
    const before = JSON.stringify(ENTITY_CONFLICT_CONFIG);
    const configs = applySyncConfig(ENTITY_CONFLICT_CONFIG, parsedOrThrow(CONTRACT_EXAMPLE));
    expect(configs).not.toBe(ENTITY_CONFLICT_CONFIG);
    expect(Object.isFrozen(configs.products.fieldPolicies)).toBe(true);
    expect(JSON.stringify(ENTITY_CONFLICT_CONFIG)).toBe(before);
  });

  it('keeps the base transitions for a MONOTONIC override without its own', () => {
    const configs = applySyncConfig(ENTITY_CONFLICT_CONFIG, {
      entities: { sessions: { fieldPolicies: { status: { policy: FIELD_POLICY.MONOTONIC } } } },
    });
    expect(configs.sessions.fieldPolicies.status).toEqual(
      ENTITY_CONFLICT_CONFIG.sessions.fieldPolicies.status,
    );
  });

  it('changes exactly the overridden strategies and field policies', () => {
    const overridable = ENTITY_SYNC_ORDER.filter((t) => !ENTITY_CONFLICT_CONFIG[t].conflictFree);
    const overrideArb = fc.dictionary(
      fc.constantFrom(...overridable),
      fc.constantFrom(...overridable).chain((type) =>
        fc.record(
          {
            defaultStrategy: fc.constantFrom(...CONFLICT_STRATEGIES),
            fieldPolicies: fc.dictionary(
              fc.constantFrom(...configurableFields(type)),
              fc.constantFrom(
                'LOCAL_WINS',
                'SERVER_WINS',
                'LAST_WRITE_WINS',
                'SERVER_IF_LOCAL_NULL',
                'LOCAL_IF_SERVER_NULL',
              ),
            ),
          },
          { requiredKeys: [] },
        ),
      ),
    );
    fc.assert(
      fc.property(overrideArb, (entities) => {
        // Field names were drawn for some entity; keep only those valid for the key's entity.
        const cleaned = Object.fromEntries(
          Object.entries(entities).map(([type, o]) => {
            const known = configurableFields(type as EntityType);
            const fieldPolicies = Object.fromEntries(
              Object.entries(o.fieldPolicies ?? {}).filter(([f]) => known.includes(f)),
            );
            return [type, { ...o, fieldPolicies }];
          }),
        );
        const configs = applySyncConfig(
          ENTITY_CONFLICT_CONFIG,
          parsedOrThrow({ entities: cleaned }),
        );
        for (const type of ENTITY_SYNC_ORDER) {
          const base = ENTITY_CONFLICT_CONFIG[type];
          const override = cleaned[type];
          expect(configs[type].defaultStrategy).toBe(
            override?.defaultStrategy ?? base.defaultStrategy,
          );
          expect(configs[type].serverDerivedFields).toEqual(base.serverDerivedFields);
          expect(configs[type].requiresCustomMerge).toBe(base.requiresCustomMerge);
          expect(configs[type].conflictFree).toBe(base.conflictFree);
          const fields = new Set([
            ...Object.keys(base.fieldPolicies),
            ...Object.keys(override?.fieldPolicies ?? {}),
          ]);
          for (const field of fields) {
            const expected = override?.fieldPolicies[field] ?? base.fieldPolicies[field]?.policy;
            expect(configs[type].fieldPolicies[field]?.policy).toBe(expected);
          }
        }
      }),
    );
  });
});
