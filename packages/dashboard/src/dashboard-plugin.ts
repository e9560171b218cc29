import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiRoutes } from './api-routes.ts';
import type { CaptureReader } from './capture-reader.ts';
import type {
  DashboardAuthenticate,
  DashboardPrincipal,
  DashboardSessions,
} from './dashboard-session.ts';
import { loginRoutes } from './login-routes.ts';
import { installFormParsing, installPageErrors } from './page-response.ts';
import { pageRoutes } from './page-routes.ts';
import type { ReplayRunner } from './replay-runner.ts';
import { dashboardPaths } from './views/paths.ts';

export interface DashboardPluginOptions {
  readonly reader: CaptureReader;
  readonly authenticate: DashboardAuthenticate;
  /** Login: checks a pasted token and opens a session for the cookie. */
  readonly sessions: DashboardSessions;
  readonly replay: ReplayRunner;
  /** The clock metrics windows end at (tests pin it). */
  readonly now?: () => Date;
}

/**
 * The dashboard (CONTRACT §9), registered under DASHBOARD_PREFIX:
 * `app.register(dashboardPlugin, { prefix, reader, authenticate, sessions, replay })`.
 * Two faces over the same ports: the JSON API (`/metrics`, `/api/*`; errors as the contract's
 * envelope through the host's error handler, 401 without a valid admin credential) and the
 * server-rendered pages (errors as pages, a redirect to `/login` without a session).
 */
export async function dashboardPlugin(
  app: FastifyInstance,
  opts: DashboardPluginOptions,
): Promise<void> {
  const now = opts.now ?? (() => new Date());
  const paths = dashboardPaths(app.prefix);
  const principals = new WeakMap<FastifyRequest, DashboardPrincipal>();

  await app.register(async (api) =>
    apiRoutes(api, {
      reader: opts.reader,
      replay: opts.replay,
      authenticate: opts.authenticate,
      now,
    }),
  );
  // Pages get their own context: HTML errors, and form bodies, which the API never accepts.
  await app.register(async (pages) => {
    installFormParsing(pages);
    installPageErrors(pages, paths, (request) => principals.get(request)?.userId);
    await pages.register(async (open) => loginRoutes(open, { paths, sessions: opts.sessions }));
    await pages.register(async (guarded) =>
      pageRoutes(guarded, {
        paths,
        reader: opts.reader,
        replay: opts.replay,
        authenticate: opts.authenticate,
        now,
        principals,
      }),
    );
  });
}
