import type { FastifyInstance } from 'fastify';
import { createPushRequestSchema } from '@sync-engine/shared';
import type { SyncServices } from '../sync/sync-services.ts';
import { principalOf } from '../http/authenticate.ts';

/** `POST /api/v1/sync/push`: apply a batch of offline changes exactly once. */
export async function pushRoutes(app: FastifyInstance, services: SyncServices, maxChanges: number): Promise<void> {
  const schema = createPushRequestSchema({ maxChanges });
  app.post('/api/v1/sync/push', async (request, reply) => {
    const { userId } = principalOf(request);
    const body = schema.parse(request.body);
    const answer = await services.push.push(userId, body);
    request.syncTrace = { kind: 'push', userId, deviceId: body.deviceId, syncOperationId: body.syncOperationId, push: answer };
    if (answer.replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(answer.httpStatus).send(answer.body);
  });
}
