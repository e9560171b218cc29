import { toColumnName } from '../entities/define-entity.ts';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';

/** One foreign key: `sourceEntity.sourceField` names a row of `targetEntity` by id. */
export interface ForeignKeyRelation {
  readonly sourceEntity: EntityType;
  /** camelCase field name, as in changeData and entity states. */
  readonly sourceField: string;
  readonly targetEntity: EntityType;
  /** An optional FK may be null; one that resolves to nothing is stored as null. */
  readonly optional: boolean;
  /** snake_case column holding the FK in the client's local SQLite store. */
  readonly sqliteColumn: string;
}

function deriveRelationGraph(): readonly ForeignKeyRelation[] {
  const relations: ForeignKeyRelation[] = [];
  for (const sourceEntity of ENTITY_SYNC_ORDER) {
    for (const [sourceField, spec] of Object.entries(ENTITY_REGISTRY[sourceEntity].fields)) {
      if (spec.kind !== 'ref') continue;
      if (spec.target === undefined) {
        // A ref without a target would silently escape id remapping and cascades.
        throw new Error(`${sourceEntity}.${sourceField} is a ref field without a target`);
      }
      relations.push(
        Object.freeze({
          sourceEntity,
          sourceField,
          targetEntity: spec.target,
          optional: !spec.requiredOnCreate,
          sqliteColumn: toColumnName(sourceField),
        }),
      );
    }
  }
  return Object.freeze(relations);
}

/**
 * Every foreign key between entity types, derived from ENTITY_REGISTRY's `ref` fields (the
 * one place relations are declared), sources in ENTITY_SYNC_ORDER, fields in declaration
 * order. Every target precedes its source in ENTITY_SYNC_ORDER.
 */
export const RELATION_GRAPH: readonly ForeignKeyRelation[] = deriveRelationGraph();

function groupBy(
  key: (r: ForeignKeyRelation) => EntityType,
): ReadonlyMap<EntityType, readonly ForeignKeyRelation[]> {
  return new Map(
    ENTITY_SYNC_ORDER.map((type) => [
      type,
      Object.freeze(RELATION_GRAPH.filter((r) => key(r) === type)),
    ]),
  );
}

const BY_SOURCE = groupBy((r) => r.sourceEntity);
const BY_TARGET = groupBy((r) => r.targetEntity);
const NONE: readonly ForeignKeyRelation[] = Object.freeze([]);

/** The foreign keys an entity type holds (empty for unknown types). */
export function getForeignKeyRelations(entityType: EntityType): readonly ForeignKeyRelation[] {
  return BY_SOURCE.get(entityType) ?? NONE;
}

/** Names of the entity type's foreign-key fields, required and optional. */
export function getForeignKeyFields(entityType: EntityType): readonly string[] {
  return getForeignKeyRelations(entityType).map((r) => r.sourceField);
}

/** Names of the entity type's optional (nullable) foreign-key fields. */
export function getOptionalForeignKeyFields(entityType: EntityType): readonly string[] {
  return getForeignKeyRelations(entityType)
    .filter((r) => r.optional)
    .map((r) => r.sourceField);
}

/** True only when `field` is a foreign key of `entityType` that may be null. */
export function isOptionalForeignKey(entityType: EntityType, field: string): boolean {
  return getForeignKeyRelations(entityType).some((r) => r.sourceField === field && r.optional);
}

/** The foreign keys, of any entity type, that name rows of `targetEntity`. */
export function getReferencingRelations(targetEntity: EntityType): readonly ForeignKeyRelation[] {
  return BY_TARGET.get(targetEntity) ?? NONE;
}
