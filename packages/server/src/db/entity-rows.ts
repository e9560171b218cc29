import type { Insertable, Updateable } from 'kysely';
import { ENTITY_REGISTRY, toColumnName, type EntityType, type FieldSpec } from '@sync-engine/shared';
import { toJsonb } from './jsonb.ts';
import type { EntityTables } from './schema.ts';

/*
 * The one mapping between entity states (what the sync core, the wire and conflict records
 * hold) and entity table rows, driven by ENTITY_REGISTRY. Nothing else should know that a
 * `text[]` field is a jsonb column or that timestamps come back as Date.
 */

/**
 * An entity's state: server-managed fields plus every registry field of its type, camelCase.
 * Timestamps are ISO-8601 UTC strings; `deletedAt` is null unless tombstoned.
 */
export interface EntityState {
  id: string;
  userId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  [field: string]: unknown;
}

/** A row as either driver returns it from `selectAll()` on an entity table. */
export type EntityRow = Readonly<Record<string, unknown>>;

export interface EntityColumn {
  /** camelCase field name in the state. */
  readonly field: string;
  /** snake_case column name. */
  readonly column: string;
  readonly spec: FieldSpec;
}

/** Server-managed state key → column. */
const BASE_COLUMNS = {
  id: 'id',
  userId: 'user_id',
  version: 'version',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  deletedAt: 'deleted_at',
} as const;

type BaseField = keyof typeof BASE_COLUMNS;

/** Columns every entity table has before its own fields. */
export const ENTITY_BASE_COLUMNS: readonly string[] = Object.freeze(Object.values(BASE_COLUMNS));

const columnsByType = new Map<EntityType, readonly EntityColumn[]>();

/** The registry fields of an entity type with their columns, in declaration order. */
export function entityColumns(entityType: EntityType): readonly EntityColumn[] {
  let columns = columnsByType.get(entityType);
  if (columns === undefined) {
    columns = Object.freeze(
      Object.entries(ENTITY_REGISTRY[entityType].fields).map(([field, spec]) =>
        Object.freeze({ field, column: toColumnName(field), spec }),
      ),
    );
    columnsByType.set(entityType, columns);
  }
  return columns;
}

/** Every column of an entity table: server-managed ones, then one per registry field. */
export function entityColumnNames(entityType: EntityType): readonly string[] {
  return [...ENTITY_BASE_COLUMNS, ...entityColumns(entityType).map((c) => c.column)];
}

/**
 * Whether a field's column is NOT NULL: when the field itself may not be null, or when it
 * has a non-null default (server-derived counters such as `eventCount` are always set).
 */
export function isNotNullColumn(spec: FieldSpec): boolean {
  return !spec.nullable || spec.defaultValue !== null;
}

// ---- reading -----------------------------------------------------------------------------

function toIsoString(value: unknown, where: string): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return new Date(value).toISOString();
  throw new TypeError(`${where}: expected a timestamp, got ${typeof value}`);
}

function toNumber(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  // numeric, or int8 from an aggregate, arrives as a string on some paths.
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new TypeError(`${where}: expected a number, got ${typeof value}`);
}

function readColumn(row: EntityRow, column: string, where: string): unknown {
  if (!(column in row)) throw new Error(`${where}: the row has no column "${column}"`);
  return row[column];
}

function fromColumnValue(spec: FieldSpec, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return null;
  switch (spec.kind) {
    case 'timestamp':
      return toIsoString(value, where);
    case 'integer':
    case 'number':
      return toNumber(value, where);
    case 'text':
    case 'ref':
    case 'boolean':
    case 'text[]':
    case 'json':
      // jsonb arrives parsed from both drivers; the rest is already the JS value.
      return value;
  }
}

/**
 * Maps an entity table row (all columns, as `selectAll()` returns them) to the entity's state.
 * Every registry field of the type is present in the result.
 *
 * @throws when the row lacks a column (a partial select is a bug, not a missing value).
 */
export function rowToEntityState(entityType: EntityType, row: EntityRow): EntityState {
  const where = `rowToEntityState(${entityType})`;
  const deletedAt = readColumn(row, 'deleted_at', where);
  const state: EntityState = {
    id: String(readColumn(row, 'id', where)),
    userId: String(readColumn(row, 'user_id', where)),
    version: toNumber(readColumn(row, 'version', where), `${where}.version`),
    createdAt: toIsoString(readColumn(row, 'created_at', where), `${where}.createdAt`),
    updatedAt: toIsoString(readColumn(row, 'updated_at', where), `${where}.updatedAt`),
    deletedAt: deletedAt === null ? null : toIsoString(deletedAt, `${where}.deletedAt`),
  };
  for (const { field, column, spec } of entityColumns(entityType)) {
    state[field] = fromColumnValue(spec, readColumn(row, column, where), `${where}.${field}`);
  }
  return state;
}

// ---- writing -----------------------------------------------------------------------------

function toColumnValue(spec: FieldSpec, value: unknown): unknown {
  if (value === null) return null;
  switch (spec.kind) {
    case 'text[]':
    case 'json':
      return toJsonb(value);
    case 'timestamp':
      return value instanceof Date ? value.toISOString() : value;
    case 'text':
    case 'ref':
    case 'integer':
    case 'number':
    case 'boolean':
      return value;
  }
}

/** Server-managed values are strings and numbers already; a Date timestamp is accepted too. */
function baseColumnValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

const fieldIndexByType = new Map<EntityType, ReadonlyMap<string, EntityColumn>>();

function fieldIndex(entityType: EntityType): ReadonlyMap<string, EntityColumn> {
  let index = fieldIndexByType.get(entityType);
  if (index === undefined) {
    index = new Map(entityColumns(entityType).map((c) => [c.field, c]));
    fieldIndexByType.set(entityType, index);
  }
  return index;
}

function isBaseField(key: string): key is BaseField {
  return Object.hasOwn(BASE_COLUMNS, key);
}

/**
 * Maps a full entity state to the row to insert or upsert: every column is present. A
 * registry field absent from the state gets the field's `defaultValue`; jsonb values are
 * JSON text (see jsonb.ts).
 *
 * @throws on a key that is neither server-managed nor a registry field of the type.
 */
export function entityStateToRow<T extends EntityType>(
  entityType: T,
  state: Readonly<EntityState>,
): Insertable<EntityTables[T]> {
  const fields = fieldIndex(entityType);
  for (const key of Object.keys(state)) {
    if (!isBaseField(key) && !fields.has(key)) {
      throw new Error(`entityStateToRow(${entityType}): unknown field "${key}"`);
    }
  }
  const row: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(BASE_COLUMNS)) {
    row[column] = baseColumnValue(state[field] ?? null);
  }
  for (const { field, column, spec } of fields.values()) {
    const value = state[field] === undefined ? spec.defaultValue : state[field];
    row[column] = toColumnValue(spec, value);
  }
  return row as Insertable<EntityTables[T]>;
}

/**
 * Maps a partial state (the fields an UPDATE changes, server-managed ones included) to the
 * SET clause values: only the keys present (and not undefined) appear.
 *
 * @throws on a key that is neither server-managed nor a registry field of the type.
 */
export function entityPatchToRow<T extends EntityType>(
  entityType: T,
  patch: Readonly<Record<string, unknown>>,
): Updateable<EntityTables[T]> {
  const fields = fieldIndex(entityType);
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (isBaseField(key)) {
      row[BASE_COLUMNS[key]] = baseColumnValue(value);
      continue;
    }
    const column = fields.get(key);
    if (column === undefined) throw new Error(`entityPatchToRow(${entityType}): unknown field "${key}"`);
    row[column.column] = toColumnValue(column.spec, value);
  }
  return row as Updateable<EntityTables[T]>;
}
