import { describe, expect, it } from 'vitest';
import { toColumnName } from '../entities/define-entity.ts';
import { ENTITY_SYNC_ORDER, syncRank } from '../entities/entity-types.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';
import {
  RELATION_GRAPH,
  getForeignKeyFields,
  getForeignKeyRelations,
  getOptionalForeignKeyFields,
  getReferencingRelations,
  isOptionalForeignKey,
} from './relation-graph.ts';

describe('RELATION_GRAPH', () => {
  it('holds exactly the foreign keys of the contract §3 table', () => {
    const rows = RELATION_GRAPH.map((r) => [
      r.sourceEntity,
      r.sourceField,
      r.targetEntity,
      r.optional,
      r.sqliteColumn,
    ]);
    expect(rows).toEqual([
      ['sessions', 'productId', 'products', true, 'product_id'],
      ['sessions', 'deviceId', 'devices', true, 'device_id'],
      ['consumptions', 'sessionId', 'sessions', true, 'session_id'],
      ['consumptions', 'productId', 'products', true, 'product_id'],
      ['journal_entries', 'sessionId', 'sessions', true, 'session_id'],
      ['journal_entries', 'consumptionId', 'consumptions', true, 'consumption_id'],
      ['journal_entries', 'productId', 'products', true, 'product_id'],
      ['purchases', 'productId', 'products', false, 'product_id'],
      ['inventory_items', 'productId', 'products', false, 'product_id'],
    ]);
  });

  it('is derived from every ref field of the registry and nothing else', () => {
    const refs = ENTITY_SYNC_ORDER.flatMap((type) =>
      Object.entries(ENTITY_REGISTRY[type].fields)
        .filter(([, spec]) => spec.kind === 'ref')
        .map(([name, spec]) => ({
          type,
          name,
          target: spec.target,
          required: spec.requiredOnCreate,
        })),
    );
    expect(RELATION_GRAPH).toHaveLength(refs.length);
    for (const ref of refs) {
      const relation = RELATION_GRAPH.find(
        (r) => r.sourceEntity === ref.type && r.sourceField === ref.name,
      );
      expect(relation).toEqual({
        sourceEntity: ref.type,
        sourceField: ref.name,
        targetEntity: ref.target,
        optional: !ref.required,
        sqliteColumn: toColumnName(ref.name),
      });
    }
  });

  it('names every parent before its children in ENTITY_SYNC_ORDER', () => {
    for (const r of RELATION_GRAPH)
      expect(syncRank(r.targetEntity)).toBeLessThan(syncRank(r.sourceEntity));
  });

  it('is frozen, relations included', () => {
    expect(Object.isFrozen(RELATION_GRAPH)).toBe(true);
    for (const r of RELATION_GRAPH) expect(Object.isFrozen(r)).toBe(true);
  });
});

describe('foreign-key helpers', () => {
  it('list the foreign-key fields of an entity, required and optional', () => {
    expect(getForeignKeyFields('journal_entries')).toEqual([
      'sessionId',
      'consumptionId',
      'productId',
    ]);
    expect(getForeignKeyFields('purchases')).toEqual(['productId']);
    expect(getForeignKeyFields('goals')).toEqual([]);
    expect(getForeignKeyRelations('sessions').map((r) => r.targetEntity)).toEqual([
      'products',
      'devices',
    ]);
  });

  it('tell optional foreign keys from required ones and from plain fields', () => {
    expect(getOptionalForeignKeyFields('sessions')).toEqual(['productId', 'deviceId']);
    expect(getOptionalForeignKeyFields('inventory_items')).toEqual([]);
    expect(isOptionalForeignKey('consumptions', 'sessionId')).toBe(true);
    expect(isOptionalForeignKey('purchases', 'productId')).toBe(false);
    expect(isOptionalForeignKey('consumptions', 'notes')).toBe(false);
    expect(isOptionalForeignKey('goals', 'productId')).toBe(false);
  });

  it('find every relation that names a target entity', () => {
    expect(
      getReferencingRelations('products').map((r) => `${r.sourceEntity}.${r.sourceField}`),
    ).toEqual([
      'sessions.productId',
      'consumptions.productId',
      'journal_entries.productId',
      'purchases.productId',
      'inventory_items.productId',
    ]);
    expect(getReferencingRelations('consumptions').map((r) => r.sourceEntity)).toEqual([
      'journal_entries',
    ]);
    expect(getReferencingRelations('ai_usage_records')).toEqual([]);
  });

  it('partition RELATION_GRAPH by source and by target', () => {
    const bySource = ENTITY_SYNC_ORDER.flatMap((t) => getForeignKeyRelations(t));
    const byTarget = ENTITY_SYNC_ORDER.flatMap((t) => getReferencingRelations(t));
    expect(new Set(bySource)).toEqual(new Set(RELATION_GRAPH));
    expect(new Set(byTarget)).toEqual(new Set(RELATION_GRAPH));
    expect(byTarget).toHaveLength(RELATION_GRAPH.length);
  });
});
