import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { SyncError } from '@sync-engine/shared';

/** Who is calling: every read and write is scoped to `userId`. */
export interface AuthPrincipal {
  readonly userId: string;
  readonly isAdmin: boolean;
  /** When the token expires (epoch ms); undefined when it never does. Long-lived sockets close then. */
  readonly expiresAtMs?: number | undefined;
}

export interface TokenService {
  verify(token: string): Promise<AuthPrincipal>;
  issue(userId: string, options?: { admin?: boolean; ttlSeconds?: number }): Promise<string>;
}

const MAX_USER_ID = 128;

/** HS256 bearer tokens: `sub` is the user id (1–128 chars), `role: "admin"` marks an operator. */
export function createTokenService(secret: string): TokenService {
  const key = new TextEncoder().encode(secret);
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
        const sub = payload.sub;
        if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_ID) {
          throw new SyncError('UNAUTHENTICATED', 'Token subject must be a user id of 1–128 characters');
        }
        const principal: AuthPrincipal = { userId: sub, isAdmin: payload['role'] === 'admin' };
        return typeof payload.exp === 'number' ? { ...principal, expiresAtMs: payload.exp * 1000 } : principal;
      } catch (err) {
        if (err instanceof SyncError) throw err;
        const message =
          err instanceof joseErrors.JWTExpired ? 'Token has expired' : 'Token is invalid or wrongly signed';
        throw new SyncError('UNAUTHENTICATED', message);
      }
    },
    async issue(userId, options = {}) {
      const jwt = new SignJWT(options.admin ? { role: 'admin' } : {})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt();
      if (options.ttlSeconds !== undefined) jwt.setExpirationTime(`${options.ttlSeconds}s`);
      return jwt.sign(key);
    },
  };
}

/** Extracts the token from `Authorization: Bearer <token>`; undefined when absent or not Bearer. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
