import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  CapturedRequestListQuerySchema,
  DashboardConflictListQuerySchema,
  DashboardFailureListQuerySchema,
  DashboardMetricsQuerySchema,
  DashboardPageQuerySchema,
  ReplayRequestSchema,
  SyncError,
  parseMetricsWindow,
} from '@sync-engine/shared';
import type { CaptureReader } from './capture-reader.ts';
import type { DashboardAuthenticate } from './dashboard-session.ts';
import type { ReplayRunner } from './replay-runner.ts';

export interface ApiRouteOptions {
  readonly reader: CaptureReader;
  readonly replay: ReplayRunner;
  readonly authenticate: DashboardAuthenticate;
  readonly now: () => Date;
}

const params = (request: FastifyRequest) => request.params as { id: string };

export function captureNotFound(id: string): SyncError {
  return new SyncError('NOT_FOUND', `No captured request ${id}`);
}

/** Parses a metrics window (`24h`, `90m`, `7d`) or throws VALIDATION_ERROR. */
export function metricsWindow(query: unknown, now: Date) {
  const { window } = DashboardMetricsQuerySchema.parse(query);
  const windowMs = parseMetricsWindow(window);
  if (windowMs === undefined)
    throw new SyncError('VALIDATION_ERROR', 'window must look like 90m, 24h or 7d');
  return { window, windowMs, now };
}

/**
 * The JSON API (CONTRACT §9). Every route needs an admin: no or an invalid credential →
 * 401 UNAUTHENTICATED, a non-admin → 403 FORBIDDEN. Errors are thrown as SyncError so the
 * host's error handler writes the contract envelope.
 */
export async function apiRoutes(app: FastifyInstance, opts: ApiRouteOptions): Promise<void> {
  const { reader, replay } = opts;

  app.addHook('onRequest', async (request) => {
    const principal = await opts.authenticate(request);
    if (principal === null)
      throw new SyncError('UNAUTHENTICATED', 'The dashboard needs an admin token or session');
    if (!principal.isAdmin) throw new SyncError('FORBIDDEN', 'The dashboard is for admins only');
  });

  app.get('/metrics', async (request) => reader.metrics(metricsWindow(request.query, opts.now())));

  app.get('/api/requests', async (request) =>
    reader.listRequests(CapturedRequestListQuerySchema.parse(request.query)),
  );

  app.get('/api/requests/:id', async (request) => {
    const { id } = params(request);
    const detail = await reader.getRequest(id);
    if (detail === null) throw captureNotFound(id);
    return detail;
  });

  app.get('/api/requests/:id/mutations', async (request) => {
    const { id } = params(request);
    const list = await reader.listMutations(id, DashboardPageQuerySchema.parse(request.query));
    if (list === null) throw captureNotFound(id);
    return list;
  });

  app.post('/api/requests/:id/replay/preview', async (request) =>
    replay.preview(params(request).id),
  );

  app.post('/api/requests/:id/replay', async (request, reply) => {
    // The order the contract gives: off → 403 whatever the body; unconfirmed → 400; then the capture.
    if (!replay.liveEnabled) {
      throw new SyncError(
        'REPLAY_DISABLED',
        'Live replay is off; start the server with DASHBOARD_REPLAY_LIVE=true',
      );
    }
    const confirmed = ReplayRequestSchema.safeParse(request.body);
    if (!confirmed.success) {
      throw new SyncError(
        'VALIDATION_ERROR',
        'A live replay must be confirmed with {"confirm": true}',
        {
          details: [{ field: 'confirm', message: 'must be true' }],
        },
      );
    }
    const result = await replay.replay(params(request).id, { correlationId: String(request.id) });
    return reply.status(201).send(result);
  });

  app.get('/api/conflicts', async (request) =>
    reader.listConflicts(DashboardConflictListQuerySchema.parse(request.query)),
  );
  app.get('/api/conflicts/patterns', async () => reader.conflictPatterns());

  app.get('/api/failures', async (request) =>
    reader.listFailures(DashboardFailureListQuerySchema.parse(request.query)),
  );
  app.get('/api/failures/groups', async () => reader.failureGroups());
}
