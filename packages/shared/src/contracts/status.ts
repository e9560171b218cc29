import { z } from 'zod';
import { EntityTypeSchema, IdSchema, IsoTimestampSchema } from './common.ts';

/** `GET /sync/status?deviceId=`: the device is required, status is per device. */
export const StatusQuerySchema = z.object({ deviceId: IdSchema });
export type StatusQuery = z.infer<typeof StatusQuerySchema>;

/**
 * A device's sync status. `cursorPositions` has the position reached per entity type (null
 * when never pulled); `pendingChanges` counts changes the device has not pulled yet;
 * `conflicts` counts the user's pending conflicts.
 */
export const SyncStatusSchema = z.object({
  deviceId: z.string(),
  lastSyncTime: IsoTimestampSchema.nullable(),
  syncInProgress: z.boolean(),
  cursorPositions: z.partialRecord(EntityTypeSchema, z.string().nullable()),
  pendingChanges: z.number().int().min(0),
  conflicts: z.number().int().min(0),
});
export type SyncStatus = z.infer<typeof SyncStatusSchema>;
