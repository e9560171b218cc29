import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { dashboardPlugin } from '@sync-engine/dashboard';
import { createRedactor } from '@sync-engine/shared';
import type { ServerConfig } from '../config/env.ts';
import type { DB } from '../db/schema.ts';
import type { TokenService } from '../http/auth-tokens.ts';
import { createAppMetrics } from '../metrics/app-metrics.ts';
import { installHttpMetrics } from '../metrics/http-metrics.ts';
import { metricsRoutes } from '../metrics/metrics-route.ts';
import { installCaptureHooks } from './capture-hooks.ts';
import { CaptureService } from './capture-service.ts';
import { dashboardAuthenticate } from './dashboard-auth.ts';
import { SqlCaptureReader } from './sql-capture-reader.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Capture of sync requests for the dashboard (flush, prune). */
    readonly capture: CaptureService;
    /** Writes every capture queued so far (tests call it instead of sleeping). */
    captureFlush(): Promise<void>;
  }
}

export interface ObservabilityDeps {
  readonly config: ServerConfig;
  readonly db: Kysely<DB>;
  readonly tokens: TokenService;
}

/**
 * Capture, metrics and the dashboard: the capture and metrics hooks (so install this before
 * the routes), the capture flusher (started when the app is ready, flushed on close), the
 * dashboard's JSON API under DASHBOARD_PREFIX and the Prometheus `GET /metrics`.
 */
export async function installObservability(app: FastifyInstance, deps: ObservabilityDeps): Promise<CaptureService> {
  const { config, db } = deps;
  const redactor = createRedactor(config.redactKeys);
  const capture = new CaptureService({
    db,
    redactor,
    log: app.log,
    enabled: config.captureEnabled,
    retentionHours: config.captureRetentionHours,
  });
  if (config.captureEnabled) installCaptureHooks(app, capture);
  installHttpMetrics(app);
  app.decorate('capture', capture);
  app.decorate('captureFlush', () => capture.flush());
  app.addHook('onReady', async () => capture.start());
  app.addHook('onClose', async () => capture.stop());

  await app.register(dashboardPlugin, {
    prefix: config.dashboardPrefix,
    reader: new SqlCaptureReader(db, redactor),
    authenticate: dashboardAuthenticate(deps.tokens),
  });
  const appRegistry = createAppMetrics({ db, captureQueueDepth: () => capture.queueDepth });
  await app.register(async (scope) => metricsRoutes(scope, { token: config.metricsToken, appRegistry }));
  return capture;
}
