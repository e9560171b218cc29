import type { FastifyInstance } from 'fastify';
import type { PushAnswer } from '../sync/push/push-service.ts';

/**
 * What a sync route did, beyond its HTTP answer: attached to the request so observers
 * (capture for the dashboard, metrics) see per-change outcomes without re-deriving them.
 */
export interface SyncTrace {
  readonly kind: 'push' | 'pull' | 'full' | 'replay';
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly syncOperationId?: string | undefined;
  /** The push answer with per-mutation traces (push, full, replay). */
  readonly push?: PushAnswer | undefined;
  /** Changes a pull page returned (pull, full). */
  readonly pulled?: number | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    syncTrace: SyncTrace | null;
  }
}

export function installSyncTrace(app: FastifyInstance): void {
  app.decorateRequest('syncTrace', null);
}
