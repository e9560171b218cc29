import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  CapturedRequestListQuerySchema,
  DashboardConflictListQuerySchema,
  DashboardFailureListQuerySchema,
  DashboardMetricsQuerySchema,
  DashboardPageQuerySchema,
  SyncError,
  parseMetricsWindow,
} from '@sync-engine/shared';
import type { CaptureReader } from './capture-reader.ts';

/** Who is asking; only an admin may read the dashboard. */
export interface DashboardPrincipal {
  readonly userId: string;
  readonly isAdmin: boolean;
}

/**
 * Finds the caller of a dashboard request (bearer token or session cookie): null when the
 * request carries no credential; throws `UNAUTHENTICATED` when it carries an invalid one.
 */
export type DashboardAuthenticate = (request: FastifyRequest) => Promise<DashboardPrincipal | null>;

export interface DashboardPluginOptions {
  readonly reader: CaptureReader;
  readonly authenticate: DashboardAuthenticate;
  /** The clock metrics windows end at (tests pin it). */
  readonly now?: () => Date;
}

/** Name of the cookie the dashboard's login page sets (it holds an admin token). */
export const DASHBOARD_SESSION_COOKIE = 'sync_engine_dashboard';

const params = (request: FastifyRequest) => request.params as { id: string };

function notFound(id: string): SyncError {
  return new SyncError('NOT_FOUND', `No captured request ${id}`);
}

/**
 * The dashboard's JSON API (CONTRACT §9), registered under DASHBOARD_PREFIX:
 * `app.register(dashboardPlugin, { prefix, reader, authenticate })`. Every route needs an
 * admin: no or an invalid credential → 401 UNAUTHENTICATED, a non-admin → 403 FORBIDDEN.
 * Errors are thrown as SyncError so the host's error handler writes the contract envelope.
 */
export async function dashboardPlugin(app: FastifyInstance, opts: DashboardPluginOptions): Promise<void> {
  const { reader } = opts;
  const now = opts.now ?? (() => new Date());

  app.addHook('onRequest', async (request) => {
    const principal = await opts.authenticate(request);
    if (principal === null) throw new SyncError('UNAUTHENTICATED', 'The dashboard needs an admin token or session');
    if (!principal.isAdmin) throw new SyncError('FORBIDDEN', 'The dashboard is for admins only');
  });

  app.get('/metrics', async (request) => {
    const { window } = DashboardMetricsQuerySchema.parse(request.query);
    const windowMs = parseMetricsWindow(window);
    if (windowMs === undefined) throw new SyncError('VALIDATION_ERROR', 'window must look like 90m, 24h or 7d');
    return reader.metrics({ window, windowMs, now: now() });
  });

  app.get('/api/requests', async (request) => reader.listRequests(CapturedRequestListQuerySchema.parse(request.query)));

  app.get('/api/requests/:id', async (request) => {
    const { id } = params(request);
    const detail = await reader.getRequest(id);
    if (detail === null) throw notFound(id);
    return detail;
  });

  app.get('/api/requests/:id/mutations', async (request) => {
    const { id } = params(request);
    const list = await reader.listMutations(id, DashboardPageQuerySchema.parse(request.query));
    if (list === null) throw notFound(id);
    return list;
  });

  app.get('/api/conflicts', async (request) => reader.listConflicts(DashboardConflictListQuerySchema.parse(request.query)));
  app.get('/api/conflicts/patterns', async () => reader.conflictPatterns());

  app.get('/api/failures', async (request) => reader.listFailures(DashboardFailureListQuerySchema.parse(request.query)));
  app.get('/api/failures/groups', async () => reader.failureGroups());
}
