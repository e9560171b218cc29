import { z } from 'zod';
import { EntityTypeListSchema, IdSchema } from './common.ts';
import { DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, PullResultSchema } from './pull.ts';
import {
  LastSyncCursorSchema,
  MAX_CHANGES_PER_PUSH,
  PushResultSchema,
  SyncChangeInputSchema,
} from './push.ts';

/**
 * `POST /sync/full`: a push (which may be empty) followed by the first pull page from the
 * start. `entityTypes` filters the pull (comma list or array); `limit` is its page size.
 */
export function createFullSyncRequestSchema(options: { maxChanges?: number } = {}) {
  return z.object({
    syncOperationId: z.uuid(),
    deviceId: IdSchema,
    lastSyncCursor: LastSyncCursorSchema,
    changes: z
      .array(SyncChangeInputSchema)
      .max(options.maxChanges ?? MAX_CHANGES_PER_PUSH)
      .default([]),
    entityTypes: EntityTypeListSchema.optional(),
    limit: z.number().int().min(1).max(MAX_PULL_LIMIT).default(DEFAULT_PULL_LIMIT),
  });
}

export const FullSyncRequestSchema = createFullSyncRequestSchema();
export type FullSyncRequest = z.infer<typeof FullSyncRequestSchema>;

/** The push answer and the first pull page; 207 when the push was partial. */
export const FullSyncResultSchema = z.object({
  push: PushResultSchema,
  pull: PullResultSchema,
});
export type FullSyncResult = z.infer<typeof FullSyncResultSchema>;
