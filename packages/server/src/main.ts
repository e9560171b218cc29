import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { loadConfig, type ServerConfig } from './config/env.ts';
import { resolveJwtSecret } from './config/secrets.ts';
import { loadConflictConfig } from './config/sync-config-file.ts';
import { createDatabase, type Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createTokenService } from './http/auth-tokens.ts';
import { createRedisClient } from './coordination/redis-client.ts';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly config: ServerConfig;
  readonly url: string;
  /** Stops accepting requests, drains the ones in flight, then closes the database. */
  close(): Promise<void>;
}

/** The one composition root: env → database + migrations → adapters → app → listen. */
export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const config = loadConfig(env);
  const conflictConfig = await loadConflictConfig(config.syncConfigPath);
  const secret = await resolveJwtSecret(config);
  const database: Database = await createDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
  });
  const redis = config.redisUrl === undefined ? undefined : createRedisClient(config.redisUrl);
  let built: FastifyInstance | undefined;
  try {
    await migrateToLatest(database.db);
    const app = (built = await buildApp({
      config,
      database,
      conflictConfig,
      tokens: createTokenService(secret),
      cursorKey: secret,
      ...(redis === undefined ? {} : { redis }),
    }));
    const address = await app.listen({ port: config.port, host: config.host });
    app.log.info({ address, database: database.driver }, 'sync engine listening');
    let closing: Promise<void> | undefined;
    return {
      app,
      config,
      url: address,
      close() {
        closing ??= (async () => {
          try {
            await app.close();
          } finally {
            await redis?.quit().catch(() => redis.disconnect());
            await database.close();
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    // e.g. the port is taken: stop what onReady started (outbox timer, Redis subscription).
    await built?.close().catch(() => undefined);
    redis?.disconnect();
    await database.close();
    throw err;
  }
}

/** Runs until SIGTERM/SIGINT, then drains requests and closes the database before exiting. */
export async function runUntilSignalled(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const server = await startServer(env);
  const shutdown = (signal: string) => {
    server.app.log.info({ signal }, 'shutting down');
    // A stuck connection must not keep the process alive forever.
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
