import type { FastifyInstance } from 'fastify';
import { isSyncError } from '@sync-engine/shared';
import {
  clearedSessionCookie,
  sessionCookie,
  type DashboardSessions,
} from './dashboard-session.ts';
import { assertSameOrigin, formField, sendPage } from './page-response.ts';
import { loginView } from './views/login-view.ts';
import { safeNext, type DashboardPaths } from './views/paths.ts';

export interface LoginRouteOptions {
  readonly paths: DashboardPaths;
  readonly sessions: DashboardSessions;
}

/** A pasted token, with a `Bearer ` prefix tolerated (operators copy whole headers). */
function pastedToken(raw: string): string {
  return raw
    .trim()
    .replace(/^Bearer\s+/i, '')
    .trim();
}

/**
 * `GET /login` shows the form; `POST /login` checks the pasted token and, for an admin,
 * sets the session cookie (a short-lived token the server signs, not the pasted one) and
 * goes on to the page that sent the operator here; `POST /logout` clears it.
 */
export async function loginRoutes(app: FastifyInstance, opts: LoginRouteOptions): Promise<void> {
  const { paths, sessions } = opts;
  const cookiePath = paths.prefix;

  app.get('/login', async (request, reply) => {
    const next = safeNext(paths.prefix, (request.query as Record<string, unknown>)['next']);
    return sendPage(reply, 200, paths, (ctx) => loginView(ctx, { next }));
  });

  app.post('/login', async (request, reply) => {
    assertSameOrigin(request);
    const next = safeNext(paths.prefix, formField(request.body, 'next'));
    const token = pastedToken(formField(request.body, 'token'));
    const refuse = (status: number, error: string) =>
      sendPage(reply, status, paths, (ctx) => loginView(ctx, { next, error }));
    if (token === '') return refuse(400, 'Paste an admin token.');
    let principal;
    try {
      principal = await sessions.verify(token);
    } catch (err) {
      if (isSyncError(err) && err.code === 'UNAUTHENTICATED')
        return refuse(401, `That token was not accepted: ${err.message}.`);
      throw err;
    }
    if (!principal.isAdmin) {
      return refuse(
        403,
        `The token of ${principal.userId} is not an admin token; the dashboard needs role "admin".`,
      );
    }
    const session = await sessions.open(principal);
    reply.header('set-cookie', sessionCookie(cookiePath, session, request.protocol === 'https'));
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    assertSameOrigin(request);
    reply.header('set-cookie', clearedSessionCookie(cookiePath, request.protocol === 'https'));
    return reply.redirect(paths.login(), 303);
  });
}
