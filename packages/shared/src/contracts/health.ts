import { z } from 'zod';

/** Overall state: 200 with `ok`, 503 with `degraded`. */
export const HEALTH_STATUSES = ['ok', 'degraded'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** State of one dependency; `down` makes the whole report `degraded`. */
export const HEALTH_CHECK_STATUSES = ['ok', 'degraded', 'down'] as const;
export type HealthCheckStatus = (typeof HEALTH_CHECK_STATUSES)[number];

/** One check; extra facts (latency, backlog, …) may ride along. */
export const HealthCheckSchema = z.looseObject({
  status: z.enum(HEALTH_CHECK_STATUSES),
  message: z.string().optional(),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

/** The outbox check also reports its backlog and dead letters. */
export const OutboxHealthCheckSchema = HealthCheckSchema.extend({
  backlog: z.number().int().min(0).optional(),
  deadLetters: z.number().int().min(0).optional(),
});

/** `GET /sync/health`; further checks may be added beside the four named ones. */
export const HealthReportSchema = z.object({
  status: z.enum(HEALTH_STATUSES),
  checks: z.looseObject({
    database: HealthCheckSchema,
    cache: HealthCheckSchema,
    leases: HealthCheckSchema,
    outbox: OutboxHealthCheckSchema,
  }),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;
