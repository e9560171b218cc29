import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../app.ts';
import { pendingMigrations } from '../db/migrate.ts';

/** Unauthenticated probes for orchestrators: liveness and readiness. */
export async function operationsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(deps.database.db);
      const migrated = (await pendingMigrations(deps.database.db)).length === 0;
      if (!migrated) return reply.status(503).send({ status: 'unavailable', database: 'not migrated' });
      return { status: 'ready', database: deps.database.driver };
    } catch (err) {
      app.log.warn({ err }, 'readiness check failed');
      return reply.status(503).send({ status: 'unavailable', database: 'unreachable' });
    }
  });
}
