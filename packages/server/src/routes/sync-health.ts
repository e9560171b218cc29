import type { FastifyInstance } from 'fastify';
import type { SyncHealthService } from '../sync/sync-health.ts';

/** `GET /sync/health`: each dependency's state; 503 when one is down. */
export async function healthRoutes(app: FastifyInstance, health: SyncHealthService): Promise<void> {
  app.get('/api/v1/sync/health', async (_request, reply) => {
    const report = await health.report();
    reply.header('cache-control', 'no-store');
    return reply.status(report.status === 'ok' ? 200 : 503).send(report);
  });
}
