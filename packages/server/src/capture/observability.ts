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
import type { PushService } from '../sync/push/push-service.ts';
import { dashboardAuthenticate, dashboardSessions } from './dashboard-auth.ts';
import { CaptureReplayRunner } from './replay-runner.ts';
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
}

export interface DashboardDeps extends ObservabilityDeps {
  readonly tokens: TokenService;
  readonly capture: CaptureService;
  readonly push: PushService;
}

/**
 * The dashboard under DASHBOARD_PREFIX: its pages and JSON API over the capture tables, login
 * with the server's tokens, and replay through the real push service.
 */
export async function installDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const { config, db } = deps;
  const redactor = createRedactor(config.redactKeys);
  await app.register(dashboardPlugin, {
    prefix: config.dashboardPrefix,
    reader: new SqlCaptureReader(db, redactor),
    authenticate: dashboardAuthenticate(deps.tokens),
    sessions: dashboardSessions(deps.tokens),
    replay: new CaptureReplayRunner({
      db,
      redactor,
      push: deps.push,
      capture: deps.capture,
      liveEnabled: config.dashboardReplayLive,
      maxChanges: config.maxChangesPerPush,
    }),
  });
}

/**
 * Capture and metrics: the capture and metrics hooks (so install this before the routes),
 * the capture flusher (started when the app is ready, flushed on close) and the Prometheus
 * `GET /metrics`. The dashboard comes later (installDashboard), once the push service exists.
 */
export async function installObservability(app: FastifyInstance, deps: ObservabilityDeps): Promise<CaptureService> {
  const { config, db } = deps;
  const redactor = createRedactor(config.redactKeys);
  const capture = new CaptureService({
    // The requests' pool on purpose: a connection of its own let capture writes run beside
    // every push at once and cost push throughput 13 % instead of 5 % (bench push, 2 cores);
    // sharing the pool makes a busy server write captures in its gaps.
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

  const appRegistry = createAppMetrics({ db, captureQueueDepth: () => capture.queueDepth });
  await app.register(async (scope) => metricsRoutes(scope, { token: config.metricsToken, appRegistry }));
  return capture;
}
