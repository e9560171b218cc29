import type { Kysely } from 'kysely';
import type { EntityConflictConfigMap } from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import { PushService, type PushServiceOptions } from './push/push-service.ts';
import { PullService } from './pull/pull-service.ts';
import { DeviceStateService } from './device-state.ts';
import { createCursorCodec } from '@sync-engine/shared';
import { CLOSED_LEASE_GATE, type LeaseGate } from '../coordination/lease-gate.ts';
import { ConflictService } from './conflicts/conflict-service.ts';

/** Hooks tests use to widen race windows; never set in production. */
export interface SyncTestHooks {
  readonly beforeCommit?: PushServiceOptions['beforeCommit'];
}

/** Called after sync writes and their outbox events commit (wakes the outbox processor). */
export type CommitListener = () => void;

export interface SyncServices {
  readonly push: PushService;
  readonly pull: PullService;
  readonly devices: DeviceStateService;
  readonly leases: LeaseGate;
  readonly conflicts: ConflictService;
}

export function createSyncServices(opts: {
  db: Kysely<DB>;
  conflictConfig: EntityConflictConfigMap;
  catalogUserId: string;
  lockStaleMs: number;
  /** Key cursors are signed with (derived from the server secret). */
  cursorKey: string;
  leases?: LeaseGate | undefined;
  onCommitted?: CommitListener | undefined;
  hooks?: SyncTestHooks | undefined;
  log?: { error(obj: object, msg: string): void } | undefined;
}): SyncServices {
  const pull = new PullService(opts.db, createCursorCodec(opts.cursorKey), opts.catalogUserId);
  return {
    pull,
    devices: new DeviceStateService(opts.db, pull),
    leases: opts.leases ?? CLOSED_LEASE_GATE,
    conflicts: new ConflictService({
      db: opts.db,
      conflictConfig: opts.conflictConfig,
      catalogUserId: opts.catalogUserId,
      cursorKey: opts.cursorKey,
      onCommitted: opts.onCommitted,
      log: opts.log,
    }),
    push: new PushService({
      db: opts.db,
      conflictConfig: opts.conflictConfig,
      catalogUserId: opts.catalogUserId,
      lockStaleMs: opts.lockStaleMs,
      beforeCommit: opts.hooks?.beforeCommit,
      onCommitted: opts.onCommitted,
    }),
  };
}
