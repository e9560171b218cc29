/**
 * Domain events the sync engine records in the transactional outbox, in the same
 * transaction as the data they describe; the outbox processor delivers them afterwards.
 */
export const DOMAIN_EVENT = {
  /** A batch of a user's changes committed. Payload: SyncChangesEventPayload. */
  SYNC_CHANGES: 'sync.changes',
  /** A push (or full sync) completed. Payload: PushCompletedEventPayload. */
  PUSH_COMPLETED: 'sync.push.completed',
  /** Conflicts were resolved by the user. Payload: ConflictsResolvedEventPayload. */
  CONFLICTS_RESOLVED: 'sync.conflicts.resolved',
} as const;

export type DomainEventType = (typeof DOMAIN_EVENT)[keyof typeof DOMAIN_EVENT];

export interface SyncChangesEventPayload {
  readonly userId: string;
  /** The device whose push made the changes; null when the server made them alone. */
  readonly deviceId: string | null;
  readonly syncOperationId: string | null;
  readonly entityTypes: readonly string[];
  readonly changeCount: number;
}

export interface PushCompletedEventPayload {
  readonly userId: string;
  readonly deviceId: string;
  readonly syncOperationId: string;
  readonly successful: number;
  readonly failed: number;
  readonly conflicts: number;
}

export interface ConflictsResolvedEventPayload {
  readonly userId: string;
  readonly conflictIds: readonly string[];
}
