import type { FastifyInstance } from 'fastify';
import { LeaseRequestSchema } from '@sync-engine/shared';
import { principalOf } from '../http/authenticate.ts';
import type { SyncLeaseService } from '../coordination/sync-lease-service.ts';

/** `POST /sync/lease`: admission to an expensive kind of request (201, or 429 + Retry-After). */
export async function leaseRoutes(app: FastifyInstance, leases: SyncLeaseService): Promise<void> {
  app.post('/api/v1/sync/lease', async (request, reply) => {
    const { userId } = principalOf(request);
    const { kind } = LeaseRequestSchema.parse(request.body);
    return reply.status(201).send(await leases.requestLease(userId, kind));
  });
}
