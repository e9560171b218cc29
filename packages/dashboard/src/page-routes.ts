import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CapturedRequestListQuerySchema,
  DashboardConflictListQuerySchema,
  DashboardFailureListQuerySchema,
  DashboardPageQuerySchema,
  SyncError,
  isSyncError,
} from '@sync-engine/shared';
import { captureNotFound, metricsWindow } from './api-routes.ts';
import type { CaptureReader } from './capture-reader.ts';
import {
  clearedSessionCookie,
  type DashboardAuthenticate,
  type DashboardPrincipal,
} from './dashboard-session.ts';
import { assertSameOrigin, formField, parseInput, sendPage } from './page-response.ts';
import type { ReplayRunner } from './replay-runner.ts';
import { conflictsView } from './views/conflicts-view.ts';
import { failuresView } from './views/failures-view.ts';
import type { ViewContext } from './views/layout.ts';
import { overviewView } from './views/overview-view.ts';
import type { DashboardPaths } from './views/paths.ts';
import { MUTATIONS_PER_PAGE, requestDetailView } from './views/request-detail-view.ts';
import { replayPreviewView } from './views/replay-views.ts';
import { requestsView } from './views/requests-view.ts';
import type { SafeHtml } from './html.ts';

export interface PageRouteOptions {
  readonly paths: DashboardPaths;
  readonly reader: CaptureReader;
  readonly replay: ReplayRunner;
  readonly authenticate: DashboardAuthenticate;
  readonly now: () => Date;
  /** Remembers who a guarded request is (the layout shows the operator). */
  readonly principals: WeakMap<FastifyRequest, DashboardPrincipal>;
}

/** Requests shown as history on the overview. */
const RECENT_REQUESTS = 15;

const params = (request: FastifyRequest) => request.params as { id: string };
const query = (request: FastifyRequest) => (request.query ?? {}) as Record<string, unknown>;

/**
 * The HTML pages. Every one needs an admin session: without a credential (or with one that
 * is no longer valid, whose cookie is then cleared) the browser is sent to the login page
 * and back here afterwards; a non-admin gets a 403 page.
 */
export async function pageRoutes(app: FastifyInstance, opts: PageRouteOptions): Promise<void> {
  const { paths, reader, replay, principals } = opts;

  const toLogin = (request: FastifyRequest, reply: FastifyReply) =>
    reply.redirect(paths.login(request.method === 'GET' ? request.url : undefined), 303);

  app.addHook('onRequest', async (request, reply) => {
    let principal: DashboardPrincipal | null;
    try {
      principal = await opts.authenticate(request);
    } catch (err) {
      if (!isSyncError(err) || err.code !== 'UNAUTHENTICATED') throw err;
      reply.header('set-cookie', clearedSessionCookie(paths.prefix, request.protocol === 'https'));
      return toLogin(request, reply);
    }
    if (principal === null) return toLogin(request, reply);
    if (!principal.isAdmin)
      throw new SyncError(
        'FORBIDDEN',
        `${principal.userId} is not an admin; the dashboard is for operators only`,
      );
    principals.set(request, principal);
    return undefined;
  });

  const page = (
    request: FastifyRequest,
    reply: FastifyReply,
    view: (ctx: ViewContext) => SafeHtml,
  ) => sendPage(reply, 200, paths, view, principals.get(request)?.userId);

  app.get('/', async (request, reply) => {
    const refresh = query(request)['refresh'] !== undefined;
    const window = metricsWindow(request.query, opts.now());
    const [metrics, recent] = await Promise.all([
      reader.metrics(window),
      reader.listRequests(
        parseInput(CapturedRequestListQuerySchema, { perPage: String(RECENT_REQUESTS) }),
      ),
    ]);
    return page(request, reply, (ctx) =>
      overviewView(ctx, { metrics, recent: recent.data, refresh }),
    );
  });

  app.get('/requests', async (request, reply) => {
    const q = parseInput(CapturedRequestListQuerySchema, request.query);
    const list = await reader.listRequests(q);
    return page(request, reply, (ctx) => requestsView(ctx, q, list));
  });

  app.get('/requests/:id', async (request, reply) => {
    const { id } = params(request);
    const pageQuery = parseInput(DashboardPageQuerySchema, {
      perPage: String(MUTATIONS_PER_PAGE),
      ...query(request),
    });
    const [detail, mutations] = await Promise.all([
      reader.getRequest(id),
      reader.listMutations(id, pageQuery),
    ]);
    if (detail === null || mutations === null) throw captureNotFound(id);
    const availability =
      detail.kind === 'pull'
        ? ({
            replayable: false,
            code: 'NOT_FOUND',
            reason: 'A pull changes nothing; only pushes can be replayed.',
          } as const)
        : await replay.availability(id);
    return page(request, reply, (ctx) =>
      requestDetailView(ctx, { detail, mutations, availability, liveEnabled: replay.liveEnabled }),
    );
  });

  app.get('/requests/:id/replay/preview', async (request, reply) => {
    const { id } = params(request);
    const detail = await reader.getRequest(id);
    if (detail === null) throw captureNotFound(id);
    const preview = await replay.preview(id);
    return page(request, reply, (ctx) => replayPreviewView(ctx, detail, preview));
  });

  app.post('/requests/:id/replay', async (request, reply) => {
    assertSameOrigin(request);
    if (!replay.liveEnabled) {
      throw new SyncError(
        'REPLAY_DISABLED',
        'Live replay is off; start the server with DASHBOARD_REPLAY_LIVE=true',
      );
    }
    if (formField(request.body, 'confirm') !== 'true') {
      throw new SyncError('VALIDATION_ERROR', 'Tick the confirmation to replay this request', {
        details: [{ field: 'confirm', message: 'must be true' }],
      });
    }
    const result = await replay.replay(params(request).id, { correlationId: String(request.id) });
    return reply.redirect(paths.request(result.replayRequestId), 303);
  });

  app.get('/conflicts', async (request, reply) => {
    const q = parseInput(DashboardConflictListQuerySchema, request.query);
    const [list, patterns] = await Promise.all([
      reader.listConflicts(q),
      reader.conflictPatterns(),
    ]);
    return page(request, reply, (ctx) => conflictsView(ctx, q, list, patterns));
  });

  app.get('/failures', async (request, reply) => {
    const q = parseInput(DashboardFailureListQuerySchema, request.query);
    const [list, groups] = await Promise.all([reader.listFailures(q), reader.failureGroups()]);
    return page(request, reply, (ctx) => failuresView(ctx, q, list, groups));
  });
}
