import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_CHANGES_PER_PUSH, SyncChangeInputSchema, createPushRequestSchema } from '@sync-engine/shared';
import type { SyncServices } from '../sync/sync-services.ts';
import { principalOf } from '../http/authenticate.ts';

/**
 * The push envelope. `changeData` only has to be a JSON object here: what is inside it (a NUL
 * character included) is validated per change by the entity's schema, so a bad field fails
 * that change alone with field-level details instead of the whole request (CONTRACT §4).
 * The shared schema checks NUL anywhere in `changeData`, which would make it a 400.
 */
export function createPushEnvelopeSchema(maxChanges: number = MAX_CHANGES_PER_PUSH) {
  const change = SyncChangeInputSchema.extend({ changeData: z.record(z.string(), z.unknown()).default({}) });
  return createPushRequestSchema({ maxChanges }).extend({ changes: z.array(change).min(1).max(maxChanges) });
}

/** `POST /api/v1/sync/push`: apply a batch of offline changes exactly once. */
export async function pushRoutes(app: FastifyInstance, services: SyncServices, maxChanges: number): Promise<void> {
  const schema = createPushEnvelopeSchema(maxChanges);
  app.post('/api/v1/sync/push', async (request, reply) => {
    const { userId } = principalOf(request);
    const body = schema.parse(request.body);
    const answer = await services.push.push(userId, body);
    request.syncTrace = { kind: 'push', userId, deviceId: body.deviceId, syncOperationId: body.syncOperationId, push: answer };
    if (answer.replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(answer.httpStatus).send(answer.body);
  });
}
