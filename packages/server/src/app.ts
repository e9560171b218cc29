import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ServerConfig } from './config/env.ts';
import type { Database } from './db/database.ts';
import type { TokenService } from './http/auth-tokens.ts';
import { installAuthentication } from './http/authenticate.ts';
import { installBodyParsing } from './http/body-parsing.ts';
import { CORRELATION_HEADER, correlationIdFor } from './http/correlation.ts';
import { installErrorHandling } from './http/error-handler.ts';
import { loggerOptions } from './http/logging.ts';
import { installSyncTrace } from './http/sync-trace.ts';
import { installDashboard, installObservability } from './capture/observability.ts';
import { operationsRoutes } from './routes/operations.ts';
import { pushRoutes } from './routes/sync-push.ts';
import { pullRoutes } from './routes/sync-pull.ts';
import { createSyncServices, type SyncTestHooks } from './sync/sync-services.ts';
import type { Redis } from 'ioredis';
import type { OutboxSubscriber } from './outbox/outbox-subscriber.ts';
import { createSyncRuntime } from './sync/sync-runtime.ts';
import { conflictRoutes } from './routes/sync-conflicts.ts';
import { leaseRoutes } from './routes/sync-lease.ts';
import { realtimeRoutes } from './routes/sync-ws.ts';
import { healthRoutes } from './routes/sync-health.ts';
import { ENTITY_CONFLICT_CONFIG, type EntityConflictConfigMap } from '@sync-engine/shared';

/** Everything the HTTP layer needs; main.ts builds it, tests build their own. */
export interface AppDeps {
  readonly config: ServerConfig;
  readonly database: Database;
  readonly tokens: TokenService;
  /** Secret cursors are signed with; a restart with the same secret keeps cursors valid. */
  readonly cursorKey: string;
  /** Overrides the JSON logger (tests pass false or a stream-backed logger). */
  readonly logger?: Exclude<FastifyServerOptions['logger'], undefined>;
  /** The conflict config in force (SYNC_CONFIG applied); defaults to the declared one. */
  readonly conflictConfig?: EntityConflictConfigMap;
  readonly testHooks?: SyncTestHooks;
  /** Set when REDIS_URL is (main.ts owns and closes it): leases and realtime go through Redis. */
  readonly redis?: Redis;
  /** Outbox subscribers besides the realtime one. */
  readonly outboxSubscribers?: readonly OutboxSubscriber[];
}

/** Builds the Fastify instance with every route; never listens (main.ts or a test does). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Redaction and serializers always apply; a caller may only add to them (level, stream).
  const logger =
    typeof deps.logger === 'object'
      ? { ...loggerOptions(deps.config.logLevel, deps.config.redactKeys), ...deps.logger }
      : (deps.logger ?? loggerOptions(deps.config.logLevel, deps.config.redactKeys));
  const app = Fastify({
    logger,
    bodyLimit: deps.config.bodyLimitBytes,
    genReqId: correlationIdFor,
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header(CORRELATION_HEADER, request.id);
  });
  installErrorHandling(app);
  installBodyParsing(app);
  installAuthentication(app, deps.tokens);
  installSyncTrace(app);
  // Capture + metrics hooks must precede the routes; also serves /metrics. The dashboard comes last.
  const capture = await installObservability(app, { config: deps.config, db: deps.database.db });
  const runtime = createSyncRuntime({ config: deps.config, db: deps.database.db, redis: deps.redis, log: app.log, outboxSubscribers: deps.outboxSubscribers });
  app.addHook('onReady', () => runtime.start());
  app.addHook('onClose', () => runtime.stop());
  const services = createSyncServices({
    db: deps.database.db,
    conflictConfig: deps.conflictConfig ?? ENTITY_CONFLICT_CONFIG,
    catalogUserId: deps.config.catalogUserId,
    lockStaleMs: deps.config.lockStaleMs,
    cursorKey: deps.cursorKey,
    hooks: deps.testHooks,
    leases: runtime.leases,
    onCommitted: () => runtime.outbox.wake(),
    log: app.log,
  });
  await app.register(async (scope) => operationsRoutes(scope, deps));
  await app.register(async (scope) => pushRoutes(scope, services, deps.config.maxChangesPerPush));
  await app.register(async (scope) => pullRoutes(scope, services, deps.config.maxChangesPerPush));
  await app.register(async (scope) => conflictRoutes(scope, services.conflicts));
  await app.register(async (scope) => leaseRoutes(scope, runtime.leases));
  await app.register(realtimeRoutes, { broadcaster: runtime.broadcaster });
  await app.register(async (scope) => healthRoutes(scope, runtime.health));
  await installDashboard(app, { config: deps.config, db: deps.database.db, tokens: deps.tokens, capture, push: services.push });
  return app;
}
