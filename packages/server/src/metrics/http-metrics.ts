import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PushAnswer } from '../sync/push/push-service.ts';
import { syncMetrics } from './sync-metrics.ts';

/** The route label: the pattern a request matched, never its raw URL (bounded cardinality). */
export function routeLabel(request: FastifyRequest): string {
  if (request.is404) return 'unmatched';
  return request.routeOptions.url ?? 'unmatched';
}

function observe(request: FastifyRequest, reply: FastifyReply): void {
  const labels = { method: request.method, route: routeLabel(request), status: String(reply.statusCode) };
  syncMetrics.httpRequests.inc(labels);
  syncMetrics.httpRequestDuration.observe(labels, reply.elapsedTime / 1000);

  const push = request.syncTrace?.push;
  if (push !== undefined) observePushOutcomes(push);
}

/** Counts the outcomes of a push's changes (an idempotent replay applied nothing: not counted). */
export function observePushOutcomes(push: PushAnswer): void {
  if (push.replayed) return;
  const { successful, failed, conflicts } = push.body;
  for (const s of successful) syncMetrics.pushChanges.inc({ outcome: s.outcome });
  if (failed.length > 0) syncMetrics.pushChanges.inc({ outcome: 'FAILED' }, failed.length);
  if (conflicts.length > 0) syncMetrics.pushChanges.inc({ outcome: 'CONFLICT' }, conflicts.length);
  for (const c of conflicts) {
    syncMetrics.conflicts.inc({ entity_type: c.entityType, strategy: c.strategy, outcome: c.outcome });
  }
}

/** Counts every answer (route, status, latency) and the outcomes of pushed changes. */
export function installHttpMetrics(app: FastifyInstance, log = app.log): void {
  app.addHook('onResponse', async (request, reply) => {
    try {
      observe(request, reply);
    } catch (err) {
      log.warn({ err }, 'metrics observation failed');
    }
  });
}
