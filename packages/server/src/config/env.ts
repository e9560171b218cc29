import { z } from 'zod';

/** A configuration value that stops start-up; the message names the variable and the fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const bool = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      if (/^(true|1|yes|on)$/i.test(v)) return true;
      if (/^(false|0|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false, got "${v}"` });
      return z.NEVER;
    });

const int = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const url = (name: string, protocols: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      let parsed: URL;
      try {
        parsed = new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} is not a URL` });
        return z.NEVER;
      }
      if (!protocols.includes(parsed.protocol) && !(name === 'DATABASE_URL' && v.startsWith('memory://'))) {
        ctx.addIssue({ code: 'custom', message: `${name} must start with ${protocols.join(' or ')}` });
        return z.NEVER;
      }
      return v;
    });

const EnvSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: int('PORT', 3000, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: url('DATABASE_URL', ['postgres:', 'postgresql:']),
  DATA_DIR: z.string().min(1).default('./.data'),
  REDIS_URL: url('REDIS_URL', ['redis:', 'rediss:']),
  AUTH_JWT_SECRET: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || v.length >= 32, {
      message: 'AUTH_JWT_SECRET must be at least 32 characters',
    }),
  DASHBOARD_PREFIX: z
    .string()
    .default('/tether/dashboard')
    .refine((v) => /^\/[A-Za-z0-9._~\-/]*[^/]$/.test(v), {
      message: 'DASHBOARD_PREFIX must be a path like /tether/dashboard (leading slash, no trailing slash)',
    }),
  DASHBOARD_REPLAY_LIVE: bool('DASHBOARD_REPLAY_LIVE', false),
  REDACT_KEYS: z.string().default(''),
  CAPTURE_ENABLED: bool('CAPTURE_ENABLED', true),
  CAPTURE_RETENTION_HOURS: int('CAPTURE_RETENTION_HOURS', 168, 1, 24 * 365),
  SYNC_CONFIG: z.string().optional(),
  METRICS_TOKEN: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SYNC_MAX_CHANGES_PER_PUSH: int('SYNC_MAX_CHANGES_PER_PUSH', 1000, 1, 10000),
  BODY_LIMIT_BYTES: int('BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  SYNC_LOCK_STALE_MS: int('SYNC_LOCK_STALE_MS', 30_000, 1000, 3_600_000),
  CATALOG_USER_ID: z.string().min(1).max(128).default('catalog'),
  DB_POOL_SIZE: int('DB_POOL_SIZE', 10, 1, 500),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('sync-engine:'),
  LEASE_WINDOW_MS: int('LEASE_WINDOW_MS', 60_000, 100, 86_400_000),
  LEASE_MAX_REQUESTS: int('LEASE_MAX_REQUESTS', 100, 1, 1_000_000),
  LEASE_GLOBAL_PER_MINUTE: int('LEASE_GLOBAL_PER_MINUTE', 1000, 1, 10_000_000),
  LEASE_USER_PER_MINUTE: int('LEASE_USER_PER_MINUTE', 10, 1, 1_000_000),
  OUTBOX_POLL_INTERVAL_MS: int('OUTBOX_POLL_INTERVAL_MS', 1000, 10, 3_600_000),
  OUTBOX_MAX_ATTEMPTS: int('OUTBOX_MAX_ATTEMPTS', 8, 1, 1000),
  OUTBOX_RETRY_BASE_MS: int('OUTBOX_RETRY_BASE_MS', 1000, 1, 3_600_000),
  OUTBOX_RETRY_MAX_MS: int('OUTBOX_RETRY_MAX_MS', 300_000, 1, 86_400_000),
});

export interface ServerConfig {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  /** Unset → embedded PGlite under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly redisUrl: string | undefined;
  /** Unset → resolved to a dev secret stored under dataDir (never in production). */
  readonly authJwtSecret: string | undefined;
  readonly dashboardPrefix: string;
  readonly dashboardReplayLive: boolean;
  readonly redactKeys: readonly string[];
  readonly captureEnabled: boolean;
  readonly captureRetentionHours: number;
  readonly syncConfigPath: string | undefined;
  readonly metricsToken: string | undefined;
  readonly logLevel: string;
  readonly maxChangesPerPush: number;
  readonly bodyLimitBytes: number;
  /** A sync lock or IN_PROGRESS operation not heartbeated for this long is taken over. */
  readonly lockStaleMs: number;
  /** The system user whose products may be public (the shared catalog). */
  readonly catalogUserId: string;
  readonly dbPoolSize: number;
  /** Prefix of every Redis key and channel, so several deployments may share one Redis. */
  readonly redisKeyPrefix: string;
  /** How long a granted lease stays valid. */
  readonly leaseWindowMs: number;
  /** Requests one lease admits. */
  readonly leaseMaxRequests: number;
  /** Leases granted per minute across all users (all instances, with Redis). */
  readonly leaseGlobalPerMinute: number;
  /** Leases granted per minute to one user. */
  readonly leaseUserPerMinute: number;
  /** The outbox is drained at least this often (and right after every commit). */
  readonly outboxPollIntervalMs: number;
  /** Delivery attempts of one outbox event before it is moved to DEAD_LETTER. */
  readonly outboxMaxAttempts: number;
  /** First retry delay of a failed delivery; doubles per attempt up to outboxRetryMaxMs. */
  readonly outboxRetryBaseMs: number;
  readonly outboxRetryMaxMs: number;
}

/**
 * Reads the environment into a validated config. Throws ConfigError with one line naming
 * every bad variable, so start-up stops before anything listens.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  // An empty variable means unset, as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      return i.message.includes(key) ? i.message : `${key}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const secret = e.AUTH_JWT_SECRET === '' ? undefined : e.AUTH_JWT_SECRET;
  if (production && secret === undefined) {
    throw new ConfigError('Invalid configuration: AUTH_JWT_SECRET is required when NODE_ENV=production');
  }
  return {
    production,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    authJwtSecret: secret,
    dashboardPrefix: e.DASHBOARD_PREFIX,
    dashboardReplayLive: e.DASHBOARD_REPLAY_LIVE,
    redactKeys: e.REDACT_KEYS.split(',').map((k) => k.trim()).filter((k) => k !== ''),
    captureEnabled: e.CAPTURE_ENABLED,
    captureRetentionHours: e.CAPTURE_RETENTION_HOURS,
    syncConfigPath: e.SYNC_CONFIG === '' ? undefined : e.SYNC_CONFIG,
    metricsToken: e.METRICS_TOKEN === '' ? undefined : e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    maxChangesPerPush: e.SYNC_MAX_CHANGES_PER_PUSH,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    lockStaleMs: e.SYNC_LOCK_STALE_MS,
    catalogUserId: e.CATALOG_USER_ID,
    dbPoolSize: e.DB_POOL_SIZE,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    leaseWindowMs: e.LEASE_WINDOW_MS,
    leaseMaxRequests: e.LEASE_MAX_REQUESTS,
    leaseGlobalPerMinute: e.LEASE_GLOBAL_PER_MINUTE,
    leaseUserPerMinute: e.LEASE_USER_PER_MINUTE,
    outboxPollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
    outboxMaxAttempts: e.OUTBOX_MAX_ATTEMPTS,
    outboxRetryBaseMs: e.OUTBOX_RETRY_BASE_MS,
    outboxRetryMaxMs: e.OUTBOX_RETRY_MAX_MS,
  };
}
