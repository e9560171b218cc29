import { z } from 'zod';
import {
  EntityTypeSchema,
  ErrorObjectSchema,
  IdSchema,
  IsoTimestampSchema,
  StateObjectSchema,
  optionalQueryEnum,
  optionalQueryToken,
  queryInteger,
} from './common.ts';
import { ConflictOutcomeSchema, ConflictStrategySchema } from './push.ts';

export const CONFLICT_STATUSES = ['PENDING', 'RESOLVED'] as const;
export type ConflictStatus = (typeof CONFLICT_STATUSES)[number];

/** How a client may resolve a pending conflict (`POST /sync/conflicts/resolve`). */
export const CLIENT_RESOLUTION_STRATEGIES = [
  'LOCAL_WINS',
  'REMOTE_WINS',
  'MERGE',
  'MANUAL',
] as const;
export type ClientResolutionStrategy = (typeof CLIENT_RESOLUTION_STRATEGIES)[number];

/** A listed conflict's `resolution`: AUTO for auto-resolved ones, else the client's strategy. */
export const LISTED_CONFLICT_RESOLUTIONS = ['AUTO', ...CLIENT_RESOLUTION_STRATEGIES] as const;
export type ListedConflictResolution = (typeof LISTED_CONFLICT_RESOLUTIONS)[number];

export const DEFAULT_CONFLICT_PAGE = 50;
export const MAX_CONFLICT_PAGE = 100;
export const MAX_RESOLUTIONS_PER_REQUEST = 100;

/** `GET /sync/conflicts` query; no `status` lists both; `cursor` is the previous `nextCursor`. */
export const ConflictListQuerySchema = z.object({
  status: optionalQueryEnum(CONFLICT_STATUSES),
  limit: queryInteger(1, MAX_CONFLICT_PAGE, DEFAULT_CONFLICT_PAGE),
  cursor: optionalQueryToken(),
});
export type ConflictListQuery = z.infer<typeof ConflictListQuerySchema>;

/** A recorded conflict as its user sees it. */
export const ListedConflictSchema = z.object({
  conflictId: z.string(),
  entityType: EntityTypeSchema,
  entityId: z.string(),
  strategy: ConflictStrategySchema,
  outcome: ConflictOutcomeSchema,
  status: z.enum(CONFLICT_STATUSES),
  resolution: z.enum(LISTED_CONFLICT_RESOLUTIONS).nullable(),
  clientData: StateObjectSchema,
  serverData: StateObjectSchema,
  createdAt: IsoTimestampSchema,
  resolvedAt: IsoTimestampSchema.nullable(),
});
export type ListedConflict = z.infer<typeof ListedConflictSchema>;

/** A page of conflicts, newest first; `nextCursor` is null on the last page. */
export const ConflictListResultSchema = z.object({
  conflicts: z.array(ListedConflictSchema),
  nextCursor: z.string().nullable(),
});
export type ConflictListResult = z.infer<typeof ConflictListResultSchema>;

/**
 * One resolution. `mergedData` is taken as-is here and validated per entity by the service,
 * so bad data (or MANUAL without it) fails that resolution alone with VALIDATION_ERROR.
 * Any id string is accepted: an unknown or another user's id is a NOT_FOUND entry.
 */
export const ConflictResolutionInputSchema = z.object({
  conflictId: IdSchema,
  strategy: z.enum(CLIENT_RESOLUTION_STRATEGIES),
  mergedData: z.unknown().optional(),
});
export type ConflictResolutionInput = z.infer<typeof ConflictResolutionInputSchema>;

export const ResolveConflictsRequestSchema = z.object({
  resolutions: z.array(ConflictResolutionInputSchema).min(1).max(MAX_RESOLUTIONS_PER_REQUEST),
});
export type ResolveConflictsRequest = z.infer<typeof ResolveConflictsRequestSchema>;

/** A conflict resolved now: the entity's resulting `version` and `state`. */
export const ResolvedConflictSchema = z.object({
  conflictId: z.string(),
  entityType: EntityTypeSchema,
  entityId: z.string(),
  version: z.number().int().min(0),
  state: StateObjectSchema,
});
export type ResolvedConflict = z.infer<typeof ResolvedConflictSchema>;

export const FailedResolutionSchema = z.object({
  conflictId: z.string(),
  error: ErrorObjectSchema,
});
export type FailedResolution = z.infer<typeof FailedResolutionSchema>;

/** 200 when `failed` is empty, else 207. */
export const ResolveConflictsResultSchema = z.object({
  resolved: z.array(ResolvedConflictSchema),
  failed: z.array(FailedResolutionSchema),
});
export type ResolveConflictsResult = z.infer<typeof ResolveConflictsResultSchema>;
