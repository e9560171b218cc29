import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SyncError } from '@sync-engine/shared';
import { bearerToken } from '../http/auth-tokens.ts';
import { metricsRegistry } from './sync-metrics.ts';

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * `GET /metrics` in Prometheus text format: open unless METRICS_TOKEN is set, then only
 * with `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
 */
export async function metricsRoutes(
  app: FastifyInstance,
  opts: { token: string | undefined; appRegistry: Registry },
): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    if (opts.token !== undefined) {
      const given = bearerToken(request.headers.authorization);
      if (given === undefined || !sameSecret(given, opts.token)) {
        throw new SyncError('UNAUTHENTICATED', 'GET /metrics needs the METRICS_TOKEN bearer token');
      }
    }
    const text = (await metricsRegistry.metrics()) + (await opts.appRegistry.metrics());
    return reply.type(metricsRegistry.contentType).send(text);
  });
}
