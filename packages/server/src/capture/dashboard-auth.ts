import type { FastifyRequest } from 'fastify';
import { DASHBOARD_SESSION_COOKIE, type DashboardAuthenticate, type DashboardSessions } from '@sync-engine/dashboard';
import { SyncError } from '@sync-engine/shared';
import { bearerToken, type TokenService } from '../http/auth-tokens.ts';

/** The value of cookie `name` in a Cookie header; undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/**
 * The dashboard's caller: the bearer token, else the session cookie its login page sets
 * (an admin token). No credential → null (401); an invalid one → UNAUTHENTICATED (401).
 */
export function dashboardAuthenticate(tokens: TokenService): DashboardAuthenticate {
  return async (request: FastifyRequest) => {
    const token =
      bearerToken(request.headers.authorization) ?? cookieValue(request.headers.cookie, DASHBOARD_SESSION_COOKIE);
    if (token === undefined) return null;
    const principal = await tokens.verify(token);
    return { userId: principal.userId, isAdmin: principal.isAdmin, expiresAtMs: principal.expiresAtMs };
  };
}

/** How long a dashboard session lasts at most (it never outlives the pasted token). */
export const DASHBOARD_SESSION_TTL_SECONDS = 8 * 3600;

/**
 * Login for the dashboard's form. The cookie holds a token the server signs for the session
 * (admin, at most 8 h, never past the pasted token's expiry), not the pasted token itself,
 * so a long-lived operator token never sits in a browser's cookie jar.
 */
export function dashboardSessions(tokens: TokenService): DashboardSessions {
  return {
    async verify(token) {
      const principal = await tokens.verify(token);
      return { userId: principal.userId, isAdmin: principal.isAdmin, expiresAtMs: principal.expiresAtMs };
    },
    async open(principal) {
      const remaining =
        principal.expiresAtMs === undefined ? Number.POSITIVE_INFINITY : Math.floor((principal.expiresAtMs - Date.now()) / 1000);
      const ttl = Math.min(DASHBOARD_SESSION_TTL_SECONDS, remaining);
      if (ttl < 1) throw new SyncError('UNAUTHENTICATED', 'Token has expired');
      const value = await tokens.issue(principal.userId, { admin: principal.isAdmin, ttlSeconds: ttl });
      return { value, maxAgeSeconds: ttl };
    },
  };
}
