import type { FastifyInstance } from 'fastify';
import { PullQuerySchema, ResetRequestSchema, StatusQuerySchema, SyncError, createFullSyncRequestSchema } from '@sync-engine/shared';
import { principalOf } from '../http/authenticate.ts';
import type { SyncServices } from '../sync/sync-services.ts';

/**
 * Whether `If-None-Match` names `etag`: the header is a list of entity tags compared weakly
 * (RFC 9110 §13.1.2), so `W/"x"` and `"a", "x"` match `"x"`; `*` matches any current page.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}

/** Pull, full sync, reset and status: `GET /changes`, `POST /full`, `POST /reset`, `GET /status`. */
export async function pullRoutes(app: FastifyInstance, services: SyncServices, maxChanges: number): Promise<void> {
  app.get('/api/v1/sync/changes', async (request, reply) => {
    const { userId } = principalOf(request);
    const query = PullQuerySchema.parse(request.query);
    if (query.scope === 'catalog') {
      if (query.leaseId === undefined) throw new SyncError('LEASE_REQUIRED', 'A catalog pull needs a leaseId');
      await services.leases.consume(userId, query.leaseId, 'catalog_sync');
    }
    const page = await services.pull.pull(userId, {
      cursor: query.cursor,
      entityTypes: query.entityTypes,
      limit: query.limit,
      deviceId: query.deviceId,
      scope: query.scope,
    });
    request.syncTrace = { kind: 'pull', userId, deviceId: query.deviceId, pulled: page.body.recordsReturned };
    if (query.deviceId !== undefined && query.scope === 'user') {
      await services.devices.rememberPull(userId, query.deviceId, page.positions, page.readTypes);
    }
    reply.header('etag', page.etag);
    reply.header('cache-control', 'private, no-cache');
    if (ifNoneMatchHits(request.headers['if-none-match'], page.etag)) return reply.status(304).send();
    return page.body;
  });

  const fullSchema = createFullSyncRequestSchema({ maxChanges });
  app.post('/api/v1/sync/full', async (request, reply) => {
    const { userId } = principalOf(request);
    const body = fullSchema.parse(request.body);
    const push = await services.push.push(userId, body, 'full');
    const page = await services.pull.pull(userId, {
      entityTypes: body.entityTypes,
      limit: body.limit,
      deviceId: body.deviceId,
      scope: 'user',
    });
    await services.devices.rememberPull(userId, body.deviceId, page.positions, page.readTypes);
    request.syncTrace = {
      kind: 'full',
      userId,
      deviceId: body.deviceId,
      syncOperationId: body.syncOperationId,
      push,
      pulled: page.body.recordsReturned,
    };
    if (push.replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(push.httpStatus).send({ push: push.body, pull: page.body });
  });

  app.post('/api/v1/sync/reset', async (request) => {
    const { userId } = principalOf(request);
    const { deviceId } = ResetRequestSchema.parse(request.body);
    await services.devices.reset(userId, deviceId);
    return { deviceId, reset: true };
  });

  app.get('/api/v1/sync/status', async (request) => {
    const { userId } = principalOf(request);
    const { deviceId } = StatusQuerySchema.parse(request.query);
    return services.devices.status(userId, deviceId);
  });
}
