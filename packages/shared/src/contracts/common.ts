import { z } from 'zod';
import {
  ENTITY_SYNC_ORDER,
  compareBySyncOrder,
  isEntityType,
  type EntityType,
} from '../entities/entity-types.ts';
import { safeString } from '../validation/json-value.ts';
import { isoTimestamp } from '../validation/timestamp.ts';

/** Longest id the API accepts (`entityId`, `requestId`, `deviceId`, `clientId`, …). */
export const MAX_ID_LENGTH = 128;

/** A client-chosen id: 1–128 characters, no NUL. */
export const IdSchema = safeString().min(1).max(MAX_ID_LENGTH);

/** An ISO-8601 timestamp with a zone (`Z` or an offset); the server always sends `Z`. */
export const IsoTimestampSchema = isoTimestamp();

export const EntityTypeSchema = z.enum(ENTITY_SYNC_ORDER);

export const SYNC_CHANGE_TYPES = ['CREATE', 'UPDATE', 'DELETE'] as const;
export type SyncChangeType = (typeof SYNC_CHANGE_TYPES)[number];
export const SyncChangeTypeSchema = z.enum(SYNC_CHANGE_TYPES);

/** A JSON object the server sends (an entity state, a stored payload). */
export const StateObjectSchema = z.record(z.string(), z.unknown());

/** An error code: UPPER_SNAKE; open-ended so clients survive codes added later. */
export const ErrorCodeSchema = z.string().regex(/^[A-Z][A-Z0-9_]*$/);

/** One field-level reason: `field` is a dotted path such as `changes.3.changeData.name`. */
export const ErrorDetailSchema = z.object({ field: z.string(), message: z.string() });

/** The error object of the envelope and of per-item `failed` entries. */
export const ErrorObjectSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.array(ErrorDetailSchema).optional(),
});
export type ErrorObject = z.infer<typeof ErrorObjectSchema>;

/** Body of every non-2xx answer that has one (CONTRACT §2). */
export const ErrorEnvelopeSchema = z.object({
  error: ErrorObjectSchema.extend({ correlationId: z.string().optional() }),
});

/** Query strings arrive as text: an empty value means "not given". */
function emptyAsAbsent(value: unknown): unknown {
  return value === '' ? undefined : value;
}

/** An optional query-string id (1–128 chars); `?deviceId=` counts as absent. */
export function optionalQueryId() {
  return z.preprocess(emptyAsAbsent, IdSchema.optional());
}

/**
 * An optional opaque token (cursor) in a query string; empty counts as absent. Its content is
 * not checked here: the codec that decodes it answers INVALID_CURSOR, not VALIDATION_ERROR.
 */
export function optionalQueryToken() {
  return z.preprocess(emptyAsAbsent, z.string().optional());
}

/**
 * An integer query parameter: accepts a number or a plain decimal string (query strings are
 * text), rejects anything else or out of range with a 400; absent → `fallback`.
 */
export function queryInteger(min: number, max: number, fallback: number) {
  return z
    .preprocess(
      (v) => (typeof v === 'string' && /^-?[0-9]{1,15}$/.test(v) ? Number(v) : v),
      z.number().int().min(min).max(max),
    )
    .default(fallback);
}

/** An optional enum in a query string; empty counts as absent. */
export function optionalQueryEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(emptyAsAbsent, z.enum(values).optional());
}

/** An enum in a query string; absent or empty → `fallback`. */
export function queryEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  fallback: T[number],
) {
  return z.preprocess(emptyAsAbsent, z.enum(values).default(fallback as never));
}

/**
 * A set of entity types given as a comma list (`a,b`), repeated parameters or a JSON array.
 * Parsed into distinct types in ENTITY_SYNC_ORDER, so equal filters read equal; an empty
 * list means "all types" (undefined). An unknown type is a validation error.
 */
export const EntityTypeListSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value, ctx): EntityType[] | undefined => {
    const names = (Array.isArray(value) ? value : [value])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '');
    const unknown = names.filter((n) => !isEntityType(n));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown entity type(s): ${unknown.join(', ')}; expected any of ${ENTITY_SYNC_ORDER.join(', ')}`,
      });
      return z.NEVER;
    }
    const types = [...new Set(names as EntityType[])].sort(compareBySyncOrder);
    return types.length === 0 ? undefined : types;
  });
