import { SyncError } from '@sync-engine/shared';

export type LeaseKind = 'catalog_sync' | 'health_upload';

/**
 * Admission control for bulk reads: each request made with a lease consumes one of its
 * requests. Expired, exhausted, unknown or another user's lease → 429 with Retry-After.
 */
export interface LeaseGate {
  consume(userId: string, leaseId: string, kind: LeaseKind): Promise<void>;
}

/** A gate that admits nothing: used where no lease service is configured. */
export const CLOSED_LEASE_GATE: LeaseGate = {
  async consume() {
    throw new SyncError('RATE_LIMIT_EXCEEDED', 'Unknown or expired lease', { retryAfterSeconds: 1 });
  },
};
