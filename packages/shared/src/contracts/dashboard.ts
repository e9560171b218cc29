import { z } from 'zod';
import {
  EntityTypeSchema,
  ErrorDetailSchema,
  IsoTimestampSchema,
  SyncChangeTypeSchema,
  optionalQueryEnum,
  optionalQueryId,
  queryInteger,
} from './common.ts';
import { CONFLICT_STATUSES } from './conflicts.ts';
import { ConflictOutcomeSchema, ConflictStrategySchema } from './push.ts';

/*
 * The dashboard's JSON API (CONTRACT §9). In it `clientId` is the captured request's
 * deviceId (null when it had none), `model` is the entity type and `entityId` a server id.
 */

export const DEFAULT_DASHBOARD_PER_PAGE = 50;
export const MAX_DASHBOARD_PER_PAGE = 100;

/** `page` from 1; `perPage` defaults to 50 and larger values are clamped to 100, not refused. */
export const DashboardPageQuerySchema = z.object({
  page: queryInteger(1, Number.MAX_SAFE_INTEGER, 1),
  perPage: queryInteger(1, Number.MAX_SAFE_INTEGER, DEFAULT_DASHBOARD_PER_PAGE).transform((n) =>
    Math.min(n, MAX_DASHBOARD_PER_PAGE),
  ),
});
export type DashboardPageQuery = z.infer<typeof DashboardPageQuerySchema>;

/** The list envelope every paginated dashboard list answers with. */
export function paginatedSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    page: z.number().int().min(1),
    perPage: z.number().int().min(1).max(MAX_DASHBOARD_PER_PAGE),
    total: z.number().int().min(0),
  });
}

// ---- metrics ----------------------------------------------------------------------------

/** `window` like `24h`, `90m`, `7d`. */
export const DashboardMetricsQuerySchema = z.object({
  window: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[1-9][0-9]{0,3}[mhd]$/)
      .default('24h'),
  ),
});
export type DashboardMetricsQuery = z.infer<typeof DashboardMetricsQuerySchema>;

export const HEALTH_STRIP_STATUSES = ['ok', 'degraded', 'failing', 'idle'] as const;
export type HealthStripStatus = (typeof HEALTH_STRIP_STATUSES)[number];

/** One five-minute bucket of the 24 h health strip. */
export const HealthStripBucketSchema = z.object({
  start: IsoTimestampSchema,
  end: IsoTimestampSchema,
  requests: z.number().int().min(0),
  failures: z.number().int().min(0),
  conflicts: z.number().int().min(0),
  status: z.enum(HEALTH_STRIP_STATUSES),
});
export type HealthStripBucket = z.infer<typeof HealthStripBucketSchema>;

const percentage = z.number().min(0).max(100);
const milliseconds = z.number().min(0);

/** Overview numbers over `window`; rates are percentages of captured requests, 0 when none. */
export const DashboardMetricsSchema = z.object({
  generatedAt: IsoTimestampSchema,
  window: z.string(),
  throughput: z.object({
    requests: z.number().int().min(0),
    pushRequests: z.number().int().min(0),
    pullRequests: z.number().int().min(0),
    /** Full syncs (counted in `requests`, not in push or pull). */
    fullRequests: z.number().int().min(0).optional(),
    mutations: z.number().int().min(0),
  }),
  latency: z.object({
    avgMs: milliseconds,
    p50Ms: milliseconds,
    p95Ms: milliseconds,
    p99Ms: milliseconds,
  }),
  conflictRate: percentage,
  failureRate: percentage,
  healthStrip: z.array(HealthStripBucketSchema),
  topModels: z.array(z.object({ model: EntityTypeSchema, mutations: z.number().int().min(0) })),
  topClients: z.array(
    z.object({
      clientId: z.string(),
      requests: z.number().int().min(0),
      mutations: z.number().int().min(0),
    }),
  ),
});
export type DashboardMetrics = z.infer<typeof DashboardMetricsSchema>;

// ---- captured requests ------------------------------------------------------------------

/** `full` is a full sync (a push and the first pull page in one request). */
export const CAPTURE_KINDS = ['push', 'pull', 'full'] as const;
export type CaptureKind = (typeof CAPTURE_KINDS)[number];

export const CAPTURE_OUTCOMES = ['success', 'partial', 'failed'] as const;
export type CaptureOutcome = (typeof CAPTURE_OUTCOMES)[number];

export const CapturedRequestListQuerySchema = DashboardPageQuerySchema.extend({
  kind: optionalQueryEnum(CAPTURE_KINDS),
  outcome: optionalQueryEnum(CAPTURE_OUTCOMES),
  clientId: optionalQueryId(),
  userId: optionalQueryId(),
});
export type CapturedRequestListQuery = z.infer<typeof CapturedRequestListQuerySchema>;

/** One captured push or pull; `replayOf` names the capture it replays, if any. */
export const CapturedRequestSummarySchema = z.object({
  id: z.string(),
  kind: z.enum(CAPTURE_KINDS),
  userId: z.string(),
  clientId: z.string().nullable(),
  startedAt: IsoTimestampSchema,
  durationMs: milliseconds,
  httpStatus: z.number().int().min(100).max(599),
  outcome: z.enum(CAPTURE_OUTCOMES),
  mutationCount: z.number().int().min(0),
  conflictCount: z.number().int().min(0),
  failureCount: z.number().int().min(0),
  snapshotCount: z.number().int().min(0),
  replayOf: z.string().nullable(),
});
export type CapturedRequestSummary = z.infer<typeof CapturedRequestSummarySchema>;

export const CapturedRequestListSchema = paginatedSchema(CapturedRequestSummarySchema);
export type CapturedRequestList = z.infer<typeof CapturedRequestListSchema>;

/** A capture in full: the redacted request and response, and the replays made of it. */
export const CapturedRequestDetailSchema = CapturedRequestSummarySchema.extend({
  request: z.unknown(),
  response: z.unknown(),
  replays: z.array(CapturedRequestSummarySchema),
  /** The request's X-Correlation-ID (find its log lines). */
  correlationId: z.string().optional(),
  syncOperationId: z.string().nullable().optional(),
  /** The error code of a non-2xx answer. */
  errorCode: z.string().nullable().optional(),
});
export type CapturedRequestDetail = z.infer<typeof CapturedRequestDetailSchema>;

// ---- mutations --------------------------------------------------------------------------

export const MUTATION_OUTCOMES = ['applied', 'rejected', 'conflict', 'skipped'] as const;
export type MutationOutcome = (typeof MUTATION_OUTCOMES)[number];

/** One changed field; a field absent on one side is `null` there. */
export const FieldDiffSchema = z.object({
  field: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
export type FieldDiff = z.infer<typeof FieldDiffSchema>;

const stateOrNull = z.record(z.string(), z.unknown()).nullable();

/** One change of a captured push: what it asked, what it did, the entity before and after. */
export const CapturedMutationSchema = z.object({
  index: z.number().int().min(0),
  requestId: z.string(),
  entityType: EntityTypeSchema,
  entityId: z.string().nullable(),
  changeType: SyncChangeTypeSchema,
  payload: z.unknown(),
  outcome: z.enum(MUTATION_OUTCOMES),
  reason: z.string().nullable(),
  before: stateOrNull,
  after: stateOrNull,
  diff: z.array(FieldDiffSchema),
  durationMs: milliseconds.nullable(),
  /** The id the client sent (a client id for a CREATE); `entityId` is the server id. */
  clientEntityId: z.string().optional(),
  /** The machine-readable part of `reason` (`VERSION_CONFLICT`, `VALIDATION_ERROR`, …). */
  reasonCode: z.string().nullable().optional(),
  /** The full reason (for a rejected change: the error with its field-level details), redacted. */
  reasonDetail: z.unknown().optional(),
});
export type CapturedMutation = z.infer<typeof CapturedMutationSchema>;

export const CapturedMutationListSchema = paginatedSchema(CapturedMutationSchema);
export type CapturedMutationList = z.infer<typeof CapturedMutationListSchema>;

// ---- conflicts and failures -------------------------------------------------------------

export const DashboardConflictListQuerySchema = DashboardPageQuerySchema.extend({
  model: optionalQueryId(),
  clientId: optionalQueryId(),
});
export type DashboardConflictListQuery = z.infer<typeof DashboardConflictListQuerySchema>;

export const DashboardConflictSchema = z.object({
  conflictId: z.string(),
  captureId: z.string().nullable(),
  model: EntityTypeSchema,
  clientId: z.string().nullable(),
  userId: z.string(),
  entityId: z.string(),
  strategy: ConflictStrategySchema,
  outcome: ConflictOutcomeSchema,
  status: z.enum(CONFLICT_STATUSES),
  clientPayload: z.unknown(),
  serverState: z.unknown(),
  reason: z.string().nullable(),
  createdAt: IsoTimestampSchema,
});
export type DashboardConflict = z.infer<typeof DashboardConflictSchema>;

export const DashboardConflictListSchema = paginatedSchema(DashboardConflictSchema);
export type DashboardConflictList = z.infer<typeof DashboardConflictListSchema>;

/** Conflict counts per model and client, most frequent first. */
export const ConflictPatternsSchema = z.object({
  data: z.array(
    z.object({
      model: EntityTypeSchema,
      clientId: z.string().nullable(),
      count: z.number().int().min(0),
      lastSeenAt: IsoTimestampSchema,
    }),
  ),
});
export type ConflictPatterns = z.infer<typeof ConflictPatternsSchema>;

export const DashboardFailureListQuerySchema = DashboardPageQuerySchema.extend({
  model: optionalQueryId(),
  clientId: optionalQueryId(),
  code: optionalQueryId(),
});
export type DashboardFailureListQuery = z.infer<typeof DashboardFailureListQuerySchema>;

/** One failed change (an entry of a push's `failed`). */
export const DashboardFailureSchema = z.object({
  id: z.string(),
  captureId: z.string().nullable(),
  model: EntityTypeSchema,
  clientId: z.string().nullable(),
  userId: z.string(),
  entityId: z.string(),
  code: z.string(),
  message: z.string(),
  details: z.array(ErrorDetailSchema),
  payload: z.unknown(),
  createdAt: IsoTimestampSchema,
});
export type DashboardFailure = z.infer<typeof DashboardFailureSchema>;

export const DashboardFailureListSchema = paginatedSchema(DashboardFailureSchema);
export type DashboardFailureList = z.infer<typeof DashboardFailureListSchema>;

/** Failures grouped by model, client and code, with one sample each. */
export const FailureGroupsSchema = z.object({
  data: z.array(
    z.object({
      model: EntityTypeSchema,
      clientId: z.string().nullable(),
      code: z.string(),
      count: z.number().int().min(0),
      lastSeenAt: IsoTimestampSchema,
      sample: DashboardFailureSchema,
    }),
  ),
});
export type FailureGroups = z.infer<typeof FailureGroupsSchema>;

// ---- replay -----------------------------------------------------------------------------

/**
 * What each captured mutation would do now if replayed (as a clone with new requestIds, the
 * way a live replay sends it); computing it writes nothing. States and diffs are redacted.
 */
export const ReplayPreviewSchema = z.object({
  /** The capture id. */
  requestId: z.string(),
  mutations: z.array(
    z.object({
      index: z.number().int().min(0),
      outcome: z.enum(MUTATION_OUTCOMES),
      before: stateOrNull,
      after: stateOrNull,
      diff: z.array(FieldDiffSchema),
      entityType: EntityTypeSchema.optional(),
      /** The server id the change would touch (the id sent when it resolves to none). */
      entityId: z.string().nullable().optional(),
      changeType: SyncChangeTypeSchema.optional(),
      /** Why it would not simply apply (`VERSION_CONFLICT: …`, `DUPLICATE_CREATE`, …). */
      reason: z.string().nullable().optional(),
    }),
  ),
});
export type ReplayPreview = z.infer<typeof ReplayPreviewSchema>;

/** A live replay must be confirmed explicitly; anything else is 400 VALIDATION_ERROR. */
export const ReplayRequestSchema = z.object({ confirm: z.literal(true) });
export type ReplayRequest = z.infer<typeof ReplayRequestSchema>;

/** 201: the clone's capture id, the original's, and the clone's new syncOperationId. */
export const ReplayResultSchema = z.object({
  replayRequestId: z.string(),
  originalRequestId: z.string(),
  syncOperationId: z.string(),
});
export type ReplayResult = z.infer<typeof ReplayResultSchema>;
