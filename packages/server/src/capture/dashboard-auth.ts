import type { FastifyRequest } from 'fastify';
import { DASHBOARD_SESSION_COOKIE, type DashboardAuthenticate } from '@sync-engine/dashboard';
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
    return { userId: principal.userId, isAdmin: principal.isAdmin };
  };
}
