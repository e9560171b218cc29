import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SyncError } from '@sync-engine/shared';
import { bearerToken, type AuthPrincipal, type TokenService } from './auth-tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: AuthPrincipal | null;
  }
}

/** The authenticated caller of an `/api/v1` route (the hook guarantees one is set). */
export function principalOf(request: FastifyRequest): AuthPrincipal {
  if (request.principal === null) throw new SyncError('UNAUTHENTICATED', 'Authentication required');
  return request.principal;
}

/**
 * Every route under `/api/v1` needs a valid bearer token; the WebSocket route may carry it
 * as `?token=` because browsers cannot set headers on a socket.
 */
export function installAuthentication(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/v1/')) return;
    let token = bearerToken(request.headers.authorization);
    if (token === undefined && request.url.startsWith('/api/v1/sync/ws')) {
      const query = request.query as Record<string, unknown> | undefined;
      if (typeof query?.['token'] === 'string') token = query['token'];
    }
    if (token === undefined) throw new SyncError('UNAUTHENTICATED', 'Missing bearer token');
    request.principal = await tokens.verify(token);
  });
}
