import { z } from 'zod';
import {
  EntityTypeListSchema,
  EntityTypeSchema,
  IsoTimestampSchema,
  StateObjectSchema,
  SyncChangeTypeSchema,
  optionalQueryId,
  optionalQueryToken,
  queryEnum,
  queryInteger,
} from './common.ts';

export const DEFAULT_PULL_LIMIT = 100;
export const MAX_PULL_LIMIT = 1000;

export const PULL_SCOPES = ['user', 'catalog'] as const;
export type PullScope = (typeof PULL_SCOPES)[number];

/**
 * Query of `GET /sync/changes`, coerced from query-string text. `entityTypes` becomes a
 * distinct list in sync order (undefined = all). A catalog pull without `leaseId` is
 * refused by the route with 400 LEASE_REQUIRED, not here, so it keeps its own code.
 */
export const PullQuerySchema = z.object({
  cursor: optionalQueryToken(),
  entityTypes: z.preprocess((v) => (v === '' ? undefined : v), EntityTypeListSchema.optional()),
  limit: queryInteger(1, MAX_PULL_LIMIT, DEFAULT_PULL_LIMIT),
  deviceId: optionalQueryId(),
  scope: queryEnum(PULL_SCOPES, 'user'),
  leaseId: optionalQueryId(),
});
export type PullQuery = z.infer<typeof PullQuerySchema>;

/**
 * One change, carrying the entity's full latest state (a DELETE carries the tombstone) with
 * server ids in its foreign keys. `originDeviceId` is null for changes the server made.
 */
export const PulledChangeSchema = z.object({
  changeId: z.string(),
  entityType: EntityTypeSchema,
  entityId: z.string(),
  changeType: SyncChangeTypeSchema,
  version: z.number().int().min(0),
  data: StateObjectSchema,
  createdAt: IsoTimestampSchema,
  originDeviceId: z.string().nullable(),
});
export type PulledChange = z.infer<typeof PulledChangeSchema>;

/** A page of changes; page with `cursor` until `hasMore` is false. */
export const PullResultSchema = z.object({
  changes: z.array(PulledChangeSchema),
  cursor: z.string(),
  hasMore: z.boolean(),
  recordsReturned: z.number().int().min(0),
  entityCursors: z.partialRecord(EntityTypeSchema, z.string()),
});
export type PullResult = z.infer<typeof PullResultSchema>;
