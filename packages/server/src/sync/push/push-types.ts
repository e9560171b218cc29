import type { EntityType } from '@sync-engine/shared';
import type { EntityState } from '../entity-state.ts';

export type ChangeType = 'CREATE' | 'UPDATE' | 'DELETE';
export type SuccessOutcome = 'APPLIED' | 'DUPLICATE' | 'SKIPPED';
export type ConflictOutcome = 'ADOPT_SERVER' | 'REBASE_AND_RETRY' | 'MANUAL_REQUIRED' | 'SKIPPED';

/** One change of a push, after envelope validation (changeData not yet checked). */
export interface SyncChangeInput {
  readonly requestId: string;
  readonly entityType: EntityType;
  readonly entityId: string;
  readonly changeType: ChangeType;
  readonly changeData: Record<string, unknown>;
  readonly syncVersion: number;
  readonly clientId?: string | undefined;
  readonly updatedAt?: string | undefined;
}

export interface PushSuccessEntry {
  requestId: string;
  clientId: string;
  entityType: EntityType;
  entityId: string;
  serverId: string;
  changeType: ChangeType;
  version: number;
  outcome: SuccessOutcome;
}

export interface ChangeError {
  code: string;
  message: string;
  details?: { field: string; message: string }[];
}

export interface PushFailedEntry {
  requestId: string;
  clientId: string;
  entityType: EntityType;
  entityId: string;
  retryable: boolean;
  error: ChangeError;
}

export interface PushConflictEntry {
  conflictId: string;
  requestId: string;
  clientId: string;
  entityType: EntityType;
  entityId: string;
  serverId: string;
  strategy: string;
  outcome: ConflictOutcome;
  clientVersion: number;
  serverVersion: number;
  serverState: EntityState;
  resolvedState: EntityState | null;
}

export interface IdMappingEntry {
  entityType: EntityType;
  clientId: string;
  serverId: string;
}

export interface PushResult {
  syncOperationId: string;
  successful: PushSuccessEntry[];
  failed: PushFailedEntry[];
  conflicts: PushConflictEntry[];
  idMappings: IdMappingEntry[];
}

/** A row of the outbox of changes that pulls read. `originDeviceId` null = server-authored. */
export interface ChangeRecord {
  entityType: EntityType;
  entityId: string;
  changeType: ChangeType;
  version: number;
  originDeviceId: string | null;
  requestId: string | null;
}

/** A requestId applied for this user+device, remembered so a resend is reported DUPLICATE. */
export interface AppliedRequest {
  requestId: string;
  entityType: EntityType;
  serverId: string;
  changeType: ChangeType;
  version: number;
}

export interface ConflictRecord {
  id: string;
  entityType: EntityType;
  entityId: string;
  clientId: string;
  requestId: string;
  strategy: string;
  outcome: ConflictOutcome;
  status: 'PENDING' | 'RESOLVED';
  resolution: string | null;
  clientVersion: number;
  serverVersion: number;
  clientData: Record<string, unknown>;
  serverData: EntityState;
  resolvedData: EntityState | null;
  resolvedAt: string | null;
}

/** What one change did, for capture and the dashboard's mutation view. */
export interface MutationTrace {
  index: number;
  requestId: string;
  entityType: EntityType;
  entityId: string;
  changeType: ChangeType;
  payload: Record<string, unknown>;
  outcome: 'applied' | 'rejected' | 'conflict' | 'skipped';
  reason: unknown;
  before: EntityState | null;
  after: EntityState | null;
  durationMs: number;
}
