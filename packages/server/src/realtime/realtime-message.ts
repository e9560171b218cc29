import { z } from 'zod';
import {
  compareBySyncOrder,
  isEntityType,
  type EntityType,
  type SyncWsEvent,
} from '@sync-engine/shared';
import { DOMAIN_EVENT } from '../outbox/domain-events.ts';
import type { OutboxEvent } from '../outbox/outbox-subscriber.ts';

/**
 * What travels on the realtime fan-out: a WebSocket event and who gets it — the sockets
 * of `userId` on every instance, except those opened with `deviceId === exceptDeviceId`.
 */
export interface RealtimeMessage {
  readonly userId: string;
  readonly exceptDeviceId: string | null;
  readonly event: SyncWsEvent;
}

const PushCompletedPayload = z.object({
  userId: z.string(),
  deviceId: z.string(),
  syncOperationId: z.string(),
  successful: z.number().int().min(0),
  failed: z.number().int().min(0),
  conflicts: z.number().int().min(0),
});
const SyncChangesPayload = z.object({
  userId: z.string(),
  // '' is how a change without a pushing device (a conflict resolution) is recorded.
  deviceId: z.string().nullable(),
  entityTypes: z.array(z.string()),
});
const ConflictsResolvedPayload = z.object({ userId: z.string(), conflictIds: z.array(z.string()) });

/** The domain events that become WebSocket events. */
export const REALTIME_EVENT_TYPES: ReadonlySet<string> = new Set([
  DOMAIN_EVENT.PUSH_COMPLETED,
  DOMAIN_EVENT.SYNC_CHANGES,
  DOMAIN_EVENT.CONFLICTS_RESOLVED,
]);

/**
 * The WebSocket message for a domain event (CONTRACT §6): `sync:push:completed` (counts) to
 * all the user's sockets, `sync:changes` to the user's sockets except the pushing device's,
 * `sync:conflicts:resolved` to all the user's sockets. Undefined for events that have no
 * WebSocket form. Throws on a malformed payload (the outbox retries, then dead-letters it).
 */
export function realtimeMessageOf(event: OutboxEvent): RealtimeMessage | undefined {
  switch (event.eventType) {
    case DOMAIN_EVENT.PUSH_COMPLETED: {
      const p = PushCompletedPayload.parse(event.payload);
      return {
        userId: p.userId,
        exceptDeviceId: null,
        event: {
          type: 'sync:push:completed',
          data: {
            syncOperationId: p.syncOperationId,
            deviceId: p.deviceId,
            successful: p.successful,
            failed: p.failed,
            conflicts: p.conflicts,
          },
        },
      };
    }
    case DOMAIN_EVENT.SYNC_CHANGES: {
      const p = SyncChangesPayload.parse(event.payload);
      const entityTypes = [
        ...new Set(p.entityTypes.filter((t): t is EntityType => isEntityType(t))),
      ].sort(compareBySyncOrder);
      return {
        userId: p.userId,
        exceptDeviceId: p.deviceId === null || p.deviceId === '' ? null : p.deviceId,
        event: { type: 'sync:changes', data: { entityTypes } },
      };
    }
    case DOMAIN_EVENT.CONFLICTS_RESOLVED: {
      const p = ConflictsResolvedPayload.parse(event.payload);
      return {
        userId: p.userId,
        exceptDeviceId: null,
        event: { type: 'sync:conflicts:resolved', data: { conflictIds: [...p.conflictIds] } },
      };
    }
    default:
      return undefined;
  }
}
