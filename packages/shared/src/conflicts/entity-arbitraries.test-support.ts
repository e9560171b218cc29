// fast-check arbitraries of entity states and client patches for the conflict tests. Every
// generated client value passes its field's schema, so "valid in → valid out" can be checked.
import fc from 'fast-check';
import { z } from 'zod';
import { SERVER_MANAGED_FIELDS } from '../entities/define-entity.ts';
import type { EntityType } from '../entities/entity-types.ts';
import type { FieldKind, FieldSpec } from '../entities/field.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';

const noNegativeZero = (n: number) => (Object.is(n, -0) ? 0 : n);

export const isoTimestampArb = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
  .map((ms) => new Date(ms).toISOString());

/** Small element domains so that two sides often overlap and hold duplicates. */
const tagArb = fc.oneof(
  fc.constantFrom('calm', 'focus', 'sleep', 'pain', 'calm '),
  fc.string({ maxLength: 6 }),
);
const reactionKeyArb = fc.constantFrom('mood', 'energy', 'notes', 'a', 'b');
const jsonLeafArb = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 4 }),
);
const jsonTreeArb: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeafArb,
    fc.array(jsonLeafArb, { maxLength: 3 }),
    fc.dictionary(reactionKeyArb, tie('node'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).node;

function kindArb(kind: FieldKind): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'text':
      return fc.string({ minLength: 1, maxLength: 12 });
    case 'integer':
      return fc.integer({ min: -2, max: 12 });
    case 'number':
      return fc
        .oneof(
          fc.integer({ min: -2, max: 500 }),
          fc.double({ min: -2, max: 1e6, noNaN: true, noDefaultInfinity: true }),
        )
        .map(noNegativeZero);
    case 'boolean':
      return fc.boolean();
    case 'timestamp':
      return isoTimestampArb;
    case 'text[]':
      return fc.array(tagArb, { maxLength: 6 });
    case 'json':
      return fc.dictionary(reactionKeyArb, jsonTreeArb, { maxKeys: 4, noNullPrototype: true });
    case 'ref':
      return fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 12 }));
  }
}

function enumValuesOf(schema: z.ZodType): readonly string[] | undefined {
  const inner = schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodType) : schema;
  return inner instanceof z.ZodEnum ? (inner.options as readonly string[]) : undefined;
}

/** A value of one field: schema-valid for client fields, of the right kind for derived ones. */
export function fieldValueArb(spec: FieldSpec): fc.Arbitrary<unknown> {
  const enumValues = enumValuesOf(spec.schema);
  const base = enumValues ? fc.constantFrom(...enumValues) : kindArb(spec.kind);
  const withNull = spec.nullable ? fc.oneof(base, fc.constant(null)) : base;
  return spec.derived ? withNull : withNull.filter((v) => spec.schema.safeParse(v).success);
}

/** Names of an entity's client-writable fields (the registry's non-derived ones). */
export function writableFields(entityType: EntityType): string[] {
  return Object.entries(ENTITY_REGISTRY[entityType].fields)
    .filter(([, spec]) => !spec.derived)
    .map(([name]) => name);
}

/** A full live server state of an entity: every field plus the server-managed ones. */
export function serverStateArb(entityType: EntityType): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(
    Object.entries(ENTITY_REGISTRY[entityType].fields).map(([name, spec]) => [
      name,
      fieldValueArb(spec),
    ]),
  );
  return fc.record({
    ...fields,
    id: fc.uuid(),
    userId: fc.constantFrom('user-1', 'user-2'),
    version: fc.integer({ min: 2, max: 50 }),
    createdAt: isoTimestampArb,
    updatedAt: isoTimestampArb,
    deletedAt: fc.constant(null),
  });
}

/** An UPDATE patch: any subset of the client-writable fields, each with a valid value. */
export function patchArb(entityType: EntityType): fc.Arbitrary<Record<string, unknown>> {
  const specs = ENTITY_REGISTRY[entityType].fields;
  const fields = Object.fromEntries(
    writableFields(entityType).map((name) => [name, fieldValueArb(specs[name]!)]),
  );
  return fc.record(fields, { requiredKeys: [] });
}

/**
 * A patch that also carries values the server must ignore: server-managed fields, derived
 * fields and names the entity does not have.
 */
export function hostilePatchArb(entityType: EntityType): fc.Arbitrary<Record<string, unknown>> {
  const derived = Object.entries(ENTITY_REGISTRY[entityType].fields)
    .filter(([, spec]) => spec.derived)
    .map(([name]) => name);
  const foreign = [...SERVER_MANAGED_FIELDS, ...derived, 'notAField', '__proto__'];
  const junk = fc.record(Object.fromEntries(foreign.map((name) => [name, jsonLeafArb])), {
    requiredKeys: [],
  });
  return fc.tuple(patchArb(entityType), junk).map(([patch, extra]) => {
    // Object.fromEntries keeps "__proto__" an own data property, as JSON.parse does.
    return Object.fromEntries([...Object.entries(extra), ...Object.entries(patch)]);
  });
}

/** The client-writable part of a state, as an UPDATE patch would carry it. */
export function pickWritable(
  entityType: EntityType,
  state: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return Object.fromEntries(
    writableFields(entityType)
      .filter((f) => f in state)
      .map((f) => [f, state[f]]),
  );
}

/** The state with duplicate elements removed from its array fields (first occurrence kept). */
export function withoutDuplicateElements(
  entityType: EntityType,
  state: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const specs = ENTITY_REGISTRY[entityType].fields;
  return Object.fromEntries(
    Object.entries(state).map(([name, value]) =>
      specs[name]?.kind === 'text[]' && Array.isArray(value)
        ? [name, [...new Set(value)]]
        : [name, value],
    ),
  );
}
