import type { Kysely } from 'kysely';
import type { EntityConflictConfigMap } from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import { PushService, type PushServiceOptions } from './push/push-service.ts';

/** Hooks tests use to widen race windows; never set in production. */
export interface SyncTestHooks {
  readonly beforeCommit?: PushServiceOptions['beforeCommit'];
}

export interface SyncServices {
  readonly push: PushService;
}

export function createSyncServices(opts: {
  db: Kysely<DB>;
  conflictConfig: EntityConflictConfigMap;
  catalogUserId: string;
  lockStaleMs: number;
  hooks?: SyncTestHooks | undefined;
}): SyncServices {
  return {
    push: new PushService({
      db: opts.db,
      conflictConfig: opts.conflictConfig,
      catalogUserId: opts.catalogUserId,
      lockStaleMs: opts.lockStaleMs,
      beforeCommit: opts.hooks?.beforeCommit,
    }),
  };
}
