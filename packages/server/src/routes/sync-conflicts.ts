import type { FastifyInstance } from 'fastify';
import { ConflictListQuerySchema, ResolveConflictsRequestSchema } from '@sync-engine/shared';
import { principalOf } from '../http/authenticate.ts';
import type { ConflictService } from '../sync/conflicts/conflict-service.ts';

/** `GET /sync/conflicts` (the caller's conflicts, keyset pages) and `POST /sync/conflicts/resolve`. */
export async function conflictRoutes(
  app: FastifyInstance,
  conflicts: ConflictService,
): Promise<void> {
  app.get('/api/v1/sync/conflicts', async (request) => {
    const { userId } = principalOf(request);
    return conflicts.list(userId, ConflictListQuerySchema.parse(request.query));
  });

  app.post('/api/v1/sync/conflicts/resolve', async (request, reply) => {
    const { userId } = principalOf(request);
    const { resolutions } = ResolveConflictsRequestSchema.parse(request.body);
    const answer = await conflicts.resolve(userId, resolutions);
    return reply.status(answer.httpStatus).send(answer.body);
  });
}
