import { z } from 'zod';
import { jsonObject, safeString } from '../validation/json-value.ts';
import type { EntityType } from './entity-types.ts';
import { isoTimestamp } from '../validation/timestamp.ts';

/** How a field is stored and compared; the server maps each kind to one SQL column type. */
export type FieldKind = 'text' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'text[]' | 'json' | 'ref';

export interface FieldSpec {
  readonly kind: FieldKind;
  /** Client schema for the value (including null where the field is nullable). */
  readonly schema: z.ZodType;
  /** May the stored value be null? */
  readonly nullable: boolean;
  /** Must a CREATE carry it? */
  readonly requiredOnCreate: boolean;
  /** Value stored on CREATE when the client leaves the field out. */
  readonly defaultValue: unknown;
  /** Computed by the server; a client's value is ignored, never stored. */
  readonly derived: boolean;
  /** For `ref` fields: the entity the foreign key names. */
  readonly target?: EntityType;
}

interface Common {
  nullable?: boolean;
  required?: boolean;
  default?: unknown;
}

function spec(kind: FieldKind, base: z.ZodType, o: Common, extra: Partial<FieldSpec> = {}): FieldSpec {
  const nullable = o.nullable ?? false;
  return {
    kind,
    schema: nullable ? base.nullable() : base,
    nullable,
    requiredOnCreate: o.required ?? false,
    defaultValue: o.default ?? null,
    derived: false,
    ...extra,
  };
}

/** Builders for entity field specs; each states the contract's rule for one field. */
export const field = {
  text(o: Common & { min?: number; max?: number } = {}): FieldSpec {
    let s = safeString();
    if (o.min !== undefined) s = s.min(o.min);
    if (o.max !== undefined) s = s.max(o.max);
    return spec('text', s, { nullable: true, ...o });
  },
  enumOf<const T extends readonly [string, ...string[]]>(values: T, o: Common = {}): FieldSpec {
    return spec('text', z.enum(values), o);
  },
  integer(o: Common & { min?: number; max?: number } = {}): FieldSpec {
    const s = z
      .number()
      .int()
      .min(o.min ?? -2147483648)
      .max(o.max ?? 2147483647);
    return spec('integer', s, { nullable: true, ...o });
  },
  number(o: Common & { min?: number; gt?: number } = {}): FieldSpec {
    let s = z.number();
    if (o.min !== undefined) s = s.min(o.min);
    if (o.gt !== undefined) s = s.gt(o.gt);
    return spec('number', s, { nullable: true, ...o });
  },
  boolean(o: Common = {}): FieldSpec {
    return spec('boolean', z.boolean(), { default: false, ...o });
  },
  timestamp(o: Common = {}): FieldSpec {
    return spec('timestamp', isoTimestamp(), { nullable: true, ...o });
  },
  textArray(o: Common = {}): FieldSpec {
    return spec('text[]', z.array(safeString()), { default: [], ...o });
  },
  object(o: Common = {}): FieldSpec {
    return spec('json', jsonObject(), { default: {}, ...o });
  },
  /** A foreign key naming `target` by server id or by the client id it was created with. */
  ref(target: EntityType, o: { required?: boolean } = {}): FieldSpec {
    const required = o.required ?? false;
    return spec('ref', safeString().min(1).max(128), { nullable: !required, required }, { target });
  },
  /** A server-derived field: readable by clients, never written from a change. */
  derived(kind: FieldKind, o: { default?: unknown } = {}): FieldSpec {
    return { kind, schema: z.unknown(), nullable: true, requiredOnCreate: false, defaultValue: o.default ?? null, derived: true };
  },
} as const;
