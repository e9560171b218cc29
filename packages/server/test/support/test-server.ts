import type { FastifyInstance } from 'fastify';
import type { EntityConflictConfigMap } from '@sync-engine/shared';
import { buildApp, type AppDeps } from '../../src/app.ts';
import { loadConfig, type ServerConfig } from '../../src/config/env.ts';
import { createTokenService, type TokenService } from '../../src/http/auth-tokens.ts';
import type { SyncTestHooks } from '../../src/sync/sync-services.ts';
import { createTestDatabase, type DatabaseTestTarget, type TestDatabase } from './test-database.ts';

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface TestServer extends AsyncDisposable {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly database: TestDatabase;
  readonly config: ServerConfig;
  readonly tokens: TokenService;
  /** A bearer token for `userId` signed with the test secret. */
  token(userId: string, options?: { admin?: boolean }): Promise<string>;
  /** A real HTTP request to the listening server; JSON in and out. */
  request<T = unknown>(
    method: string,
    path: string,
    options?: { user?: string; token?: string; body?: unknown; headers?: Record<string, string>; admin?: boolean },
  ): Promise<HttpAnswer<T>>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly target?: DatabaseTestTarget;
  readonly database?: TestDatabase;
  readonly env?: Record<string, string>;
  readonly conflictConfig?: EntityConflictConfigMap;
  readonly testHooks?: SyncTestHooks;
  /** More app dependencies (a Redis client, outbox subscribers, …). */
  readonly deps?: Partial<Pick<AppDeps, 'redis' | 'outboxSubscribers' | 'logger'>>;
}

/**
 * The real server (Fastify listening on an ephemeral port) over a fresh migrated database,
 * disposed with `await using`.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await (options.target?.createTestDatabase() ?? createTestDatabase()));
  const config = loadConfig({ LOG_LEVEL: 'silent', PORT: '0', AUTH_JWT_SECRET: TEST_JWT_SECRET, ...options.env });
  const tokens = createTokenService(TEST_JWT_SECRET);
  const app = await buildApp({
    config,
    database: { db: database.db, driver: database.driver, close: () => database.close(), [Symbol.asyncDispose]: () => database.close() },
    tokens,
    cursorKey: TEST_JWT_SECRET,
    ...(options.conflictConfig ? { conflictConfig: options.conflictConfig } : {}),
    ...(options.testHooks ? { testHooks: options.testHooks } : {}),
    ...options.deps,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      if (!options.database) await database.close();
    })();
    return closing;
  };
  const server: TestServer = {
    app,
    url,
    database,
    config,
    tokens,
    token: (userId, o) => tokens.issue(userId, { admin: o?.admin ?? false }),
    async request<T>(
      method: string,
      path: string,
      o: { user?: string; token?: string; body?: unknown; headers?: Record<string, string>; admin?: boolean } = {},
    ): Promise<HttpAnswer<T>> {
      const headers: Record<string, string> = { ...o.headers };
      const token = o.token ?? (o.user !== undefined ? await tokens.issue(o.user, { admin: o.admin ?? false }) : undefined);
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      let payload: string | undefined;
      if (o.body !== undefined) {
        payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
      const text = await res.text();
      let body: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') body = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: body as T };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return server;
}
