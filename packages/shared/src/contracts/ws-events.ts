import { z } from 'zod';
import { EntityTypeSchema } from './common.ts';

export const WS_EVENT_TYPES = [
  'sync:push:completed',
  'sync:conflicts:resolved',
  'sync:changes',
] as const;
export type WsEventType = (typeof WS_EVENT_TYPES)[number];

/** A push finished (counts only); sent to all the user's sockets. */
export const PushCompletedEventSchema = z.object({
  type: z.literal('sync:push:completed'),
  data: z.object({
    syncOperationId: z.string(),
    deviceId: z.string(),
    successful: z.number().int().min(0),
    failed: z.number().int().min(0),
    conflicts: z.number().int().min(0),
  }),
});

export const ConflictsResolvedEventSchema = z.object({
  type: z.literal('sync:conflicts:resolved'),
  data: z.object({ conflictIds: z.array(z.string()) }),
});

/** New changes to pull; sent to the user's sockets other than the pushing device's. */
export const ChangesAvailableEventSchema = z.object({
  type: z.literal('sync:changes'),
  data: z.object({ entityTypes: z.array(EntityTypeSchema) }),
});

/** Every server → client WebSocket message: `{type, data}`. */
export const SyncWsEventSchema = z.discriminatedUnion('type', [
  PushCompletedEventSchema,
  ConflictsResolvedEventSchema,
  ChangesAvailableEventSchema,
]);
export type SyncWsEvent = z.infer<typeof SyncWsEventSchema>;
export type PushCompletedEvent = z.infer<typeof PushCompletedEventSchema>;
export type ConflictsResolvedEvent = z.infer<typeof ConflictsResolvedEventSchema>;
export type ChangesAvailableEvent = z.infer<typeof ChangesAvailableEventSchema>;
