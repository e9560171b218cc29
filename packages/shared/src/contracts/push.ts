import { z } from 'zod';
import { CONFLICT_RESOLUTION_OUTCOMES, CONFLICT_STRATEGIES } from '../conflicts/strategies.ts';
import { MAX_CURSOR_LENGTH } from '../cursor/cursor-codec.ts';
import {
  EntityTypeSchema,
  ErrorObjectSchema,
  IdSchema,
  IsoTimestampSchema,
  StateObjectSchema,
  SyncChangeTypeSchema,
} from './common.ts';

/** Default cap on the changes of one push (CONTRACT §2); the server may configure another. */
export const MAX_CHANGES_PER_PUSH = 1000;
/** Largest `syncVersion` (PostgreSQL integer). */
export const MAX_SYNC_VERSION = 2 ** 31 - 1;

/**
 * One change of a push. `changeData` is only checked to be a JSON object here; its fields
 * (a NUL character included) are validated per entity later, so a bad field fails that
 * change alone with field-level details, not the request. `clientId` defaults to
 * `entityId`. Unknown keys are ignored.
 */
export const SyncChangeInputSchema = z.object({
  requestId: IdSchema,
  entityType: EntityTypeSchema,
  entityId: IdSchema,
  changeType: SyncChangeTypeSchema,
  changeData: StateObjectSchema.default({}),
  syncVersion: z.number().int().min(0).max(MAX_SYNC_VERSION),
  clientId: IdSchema.optional(),
  updatedAt: IsoTimestampSchema.optional(),
});
export type SyncChangeInput = z.infer<typeof SyncChangeInputSchema>;

/** `lastSyncCursor`: informational, never decoded by a push; null or absent when unknown. */
export const LastSyncCursorSchema = z.string().max(MAX_CURSOR_LENGTH).nullable().optional();

/**
 * The push envelope with at most `maxChanges` changes (at least one). Extra top-level keys
 * are accepted and dropped; a malformed envelope is a whole-request 400.
 */
export function createPushRequestSchema(options: { maxChanges?: number } = {}) {
  return z.object({
    syncOperationId: z.uuid(),
    deviceId: IdSchema,
    lastSyncCursor: LastSyncCursorSchema,
    changes: z
      .array(SyncChangeInputSchema)
      .min(1)
      .max(options.maxChanges ?? MAX_CHANGES_PER_PUSH),
  });
}

/** The push envelope with the default limit of MAX_CHANGES_PER_PUSH changes. */
export const PushRequestSchema = createPushRequestSchema();
export type PushRequest = z.infer<typeof PushRequestSchema>;

export const PUSH_SUCCESS_OUTCOMES = ['APPLIED', 'DUPLICATE', 'SKIPPED'] as const;
export type PushSuccessOutcome = (typeof PUSH_SUCCESS_OUTCOMES)[number];

/** A conflict's strategy and outcome on the wire: the conflict engine's own vocabulary. */
export const ConflictStrategySchema = z.enum(CONFLICT_STRATEGIES);
export const ConflictOutcomeSchema = z.enum(CONFLICT_RESOLUTION_OUTCOMES);

/**
 * A change the server applied, recognised as already applied (DUPLICATE) or had nothing to
 * do for (SKIPPED). `entityId` is the id the client sent; `serverId` the entity's server id
 * (for a SKIPPED change of an entity that does not exist: the id the change resolved to)
 * and `version` its version after the change (0 when no entity exists).
 */
export const PushSuccessEntrySchema = z.object({
  requestId: z.string(),
  clientId: z.string(),
  entityType: EntityTypeSchema,
  entityId: z.string(),
  serverId: z.string(),
  changeType: SyncChangeTypeSchema,
  version: z.number().int().min(0),
  outcome: z.enum(PUSH_SUCCESS_OUTCOMES),
});
export type PushSuccessEntry = z.infer<typeof PushSuccessEntrySchema>;

/** A change that was not applied; `retryable` says whether pushing it again can succeed. */
export const PushFailedEntrySchema = z.object({
  requestId: z.string(),
  clientId: z.string(),
  entityType: EntityTypeSchema,
  entityId: z.string(),
  retryable: z.boolean(),
  error: ErrorObjectSchema,
});
export type PushFailedEntry = z.infer<typeof PushFailedEntrySchema>;

/**
 * A stale UPDATE (or an UPDATE of a tombstone), always recorded. `strategy` is the one that
 * decided it (MERGE, SERVER_WINS, LAST_WRITE_WINS, MANUAL); `resolvedState` is the state
 * the client should adopt, null when nothing was resolved (MANUAL_REQUIRED).
 */
export const PushConflictEntrySchema = z.object({
  conflictId: z.string(),
  requestId: z.string(),
  clientId: z.string(),
  entityType: EntityTypeSchema,
  entityId: z.string(),
  serverId: z.string(),
  strategy: ConflictStrategySchema,
  outcome: ConflictOutcomeSchema,
  clientVersion: z.number().int().min(0),
  serverVersion: z.number().int().min(0),
  serverState: StateObjectSchema,
  resolvedState: StateObjectSchema.nullable(),
});
export type PushConflictEntry = z.infer<typeof PushConflictEntrySchema>;

/** A client id the server now knows by `serverId`; the client cascades it over its store. */
export const IdMappingSchema = z.object({
  entityType: EntityTypeSchema,
  clientId: z.string(),
  serverId: z.string(),
});
export type IdMapping = z.infer<typeof IdMappingSchema>;

/** The push answer: every change lands in exactly one of successful, failed, conflicts. */
export const PushResultSchema = z.object({
  syncOperationId: z.string(),
  successful: z.array(PushSuccessEntrySchema),
  failed: z.array(PushFailedEntrySchema),
  conflicts: z.array(PushConflictEntrySchema),
  idMappings: z.array(IdMappingSchema),
});
export type PushResult = z.infer<typeof PushResultSchema>;
