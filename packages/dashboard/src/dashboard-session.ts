import type { FastifyRequest } from 'fastify';

/** Name of the cookie the dashboard's login page sets (it holds a short-lived admin token). */
export const DASHBOARD_SESSION_COOKIE = 'sync_engine_dashboard';

/** Who is asking; only an admin may read the dashboard. */
export interface DashboardPrincipal {
  readonly userId: string;
  readonly isAdmin: boolean;
  /** When the credential expires (epoch ms); undefined when it never does. */
  readonly expiresAtMs?: number | undefined;
}

/**
 * Finds the caller of a dashboard request (bearer token or session cookie): null when the
 * request carries no credential; throws `UNAUTHENTICATED` when it carries an invalid one.
 */
export type DashboardAuthenticate = (request: FastifyRequest) => Promise<DashboardPrincipal | null>;

/** A signed session value for the cookie and how long it is good for. */
export interface DashboardSession {
  readonly value: string;
  readonly maxAgeSeconds: number;
}

/** Login, supplied by the server (it owns the token machinery). */
export interface DashboardSessions {
  /** The principal of a pasted token; throws `UNAUTHENTICATED` when it is not valid. */
  verify(token: string): Promise<DashboardPrincipal>;
  /** A session for `principal`, expiring no later than its credential does. */
  open(principal: DashboardPrincipal): Promise<DashboardSession>;
}

/**
 * The Set-Cookie value of a session: HttpOnly (no script reads it), SameSite=Strict (no other
 * site can make the browser send it, which is the dashboard's CSRF defence), scoped to the
 * dashboard's path, Secure when served over https.
 */
export function sessionCookie(path: string, session: DashboardSession, secure: boolean): string {
  return [
    `${DASHBOARD_SESSION_COOKIE}=${encodeURIComponent(session.value)}`,
    `Path=${path}`,
    `Max-Age=${Math.max(0, Math.floor(session.maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The Set-Cookie value that deletes the session cookie. */
export function clearedSessionCookie(path: string, secure: boolean): string {
  return sessionCookie(path, { value: '', maxAgeSeconds: 0 }, secure);
}
