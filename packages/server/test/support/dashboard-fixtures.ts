import { sql } from 'kysely';
import { DASHBOARD_SESSION_COOKIE } from '@sync-engine/dashboard';
import type { CapturedRequestList } from '@sync-engine/shared';
import { dashboardOk } from './capture-fixtures.ts';
import type { HttpAnswer, TestServer } from './test-server.ts';

/*
 * Fixtures of the dashboard page and replay tests: captures by user, an admin session
 * cookie, and page requests that do not follow redirects (the redirect is what is tested).
 */

/** The id of the `index`-th newest push captured for `user` (0 = the latest), after a flush. */
export async function pushCaptureId(server: TestServer, user: string, index = 0): Promise<string> {
  await server.app.captureFlush();
  const list = await dashboardOk<CapturedRequestList>(
    server,
    `/api/requests?userId=${encodeURIComponent(user)}&kind=push`,
  );
  const capture = list.data[index];
  if (capture === undefined)
    throw new Error(`no push capture #${index} for ${user}: ${JSON.stringify(list)}`);
  return capture.id;
}

/** A Cookie header holding a session for `userId` (an admin unless told otherwise). */
export async function sessionCookieFor(
  server: TestServer,
  userId = 'ops-admin',
  admin = true,
): Promise<string> {
  return `${DASHBOARD_SESSION_COOKIE}=${await server.token(userId, { admin })}`;
}

export interface PageAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * A page request as a browser makes it, redirects not followed. `path` is after the prefix;
 * `form` is sent urlencoded.
 */
export async function requestPage(
  server: TestServer,
  path: string,
  options: {
    method?: string;
    cookie?: string;
    form?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): Promise<PageAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie !== undefined) headers['cookie'] = options.cookie;
  let body: string | undefined;
  if (options.form !== undefined) {
    body = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(`${server.url}${server.config.dashboardPrefix}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    redirect: 'manual',
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A page that must answer 200; returns its HTML. */
export async function pageOk(server: TestServer, path: string, cookie: string): Promise<string> {
  const answer = await requestPage(server, path, { cookie });
  if (answer.status !== 200)
    throw new Error(`GET ${path} answered ${answer.status}: ${answer.text.slice(0, 500)}`);
  return answer.text;
}

/** A dashboard API POST as an admin (`path` after the prefix). */
export async function dashboardPost<T = unknown>(
  server: TestServer,
  path: string,
  body?: unknown,
): Promise<HttpAnswer<T>> {
  return server.request<T>('POST', `${server.config.dashboardPrefix}${path}`, {
    user: 'ops-admin',
    admin: true,
    ...(body === undefined ? {} : { body }),
  });
}

/** Rows per table that a push can write for `userId`: what "writes nothing" is checked against. */
export async function writeFootprint(
  server: TestServer,
  userId: string,
): Promise<Record<string, number>> {
  const tables = [
    'products',
    'purchases',
    'goals',
    'devices',
    'sync_changes',
    'sync_conflicts',
    'id_mappings',
    'sync_applied_requests',
    'sync_operations',
    'outbox_events',
  ];
  const out: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.table(table)} where user_id = ${userId}`.execute(
      server.database.db,
    );
    out[table] = rows[0]?.n ?? 0;
  }
  const versions = await sql<{ v: number }>`
    select coalesce(sum(version), 0)::int as v from goals where user_id = ${userId}`.execute(
    server.database.db,
  );
  out['goals.version'] = versions.rows[0]?.v ?? 0;
  return out;
}
