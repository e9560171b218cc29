import { z } from 'zod';
import type { EntityType } from './entity-types.ts';
import type { FieldSpec } from './field.ts';

/** Fields every entity state carries that only the server sets. */
export const SERVER_MANAGED_FIELDS = ['id', 'userId', 'version', 'createdAt', 'updatedAt', 'deletedAt'] as const;
export type ServerManagedField = (typeof SERVER_MANAGED_FIELDS)[number];

export interface EntityDefinition {
  readonly type: EntityType;
  /** SQL table holding the entity's current state. */
  readonly table: string;
  /** Client-visible fields (client-writable and server-derived), server-managed ones excluded. */
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Append-only entities never conflict and ignore UPDATE/DELETE of existing records. */
  readonly appendOnly: boolean;
  /** Strict schema of a CREATE's changeData (after server-managed and derived keys are dropped). */
  readonly createSchema: z.ZodType<Record<string, unknown>>;
  /** Strict schema of an UPDATE patch: every field optional, rules otherwise as on CREATE. */
  readonly updateSchema: z.ZodType<Record<string, unknown>>;
}

/** camelCase field name → snake_case column name. */
export function toColumnName(fieldName: string): string {
  return fieldName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function defineEntity(
  type: EntityType,
  fields: Record<string, FieldSpec>,
  options: { appendOnly?: boolean } = {},
): EntityDefinition {
  const create: Record<string, z.ZodType> = {};
  const update: Record<string, z.ZodType> = {};
  for (const [name, f] of Object.entries(fields)) {
    if (f.derived) continue;
    create[name] = f.requiredOnCreate ? f.schema : f.schema.optional();
    update[name] = f.schema.optional();
  }
  return Object.freeze({
    type,
    table: type,
    fields: Object.freeze({ ...fields }),
    appendOnly: options.appendOnly ?? false,
    createSchema: z.strictObject(create),
    updateSchema: z.strictObject(update),
  });
}
