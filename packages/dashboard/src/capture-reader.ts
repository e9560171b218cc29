import type {
  CapturedMutationList,
  CapturedRequestDetail,
  CapturedRequestList,
  CapturedRequestListQuery,
  ConflictPatterns,
  DashboardConflictList,
  DashboardConflictListQuery,
  DashboardFailureList,
  DashboardFailureListQuery,
  DashboardMetrics,
  DashboardPageQuery,
  FailureGroups,
} from '@sync-engine/shared';

/** The window a metrics overview covers. */
export interface MetricsWindow {
  /** As asked, e.g. `24h`. */
  readonly window: string;
  readonly windowMs: number;
  /** The end of the window (and of the health strip). */
  readonly now: Date;
}

/**
 * The read side of captured sync traffic, supplied by the server (the dashboard never
 * touches a database). Everything it returns is already redacted (CONTRACT §9).
 */
export interface CaptureReader {
  metrics(window: MetricsWindow): Promise<DashboardMetrics>;
  listRequests(query: CapturedRequestListQuery): Promise<CapturedRequestList>;
  /** null when no capture has this id. */
  getRequest(id: string): Promise<CapturedRequestDetail | null>;
  /** null when no capture has this id. Mutations in the order the client sent them. */
  listMutations(captureId: string, page: DashboardPageQuery): Promise<CapturedMutationList | null>;
  listConflicts(query: DashboardConflictListQuery): Promise<DashboardConflictList>;
  conflictPatterns(): Promise<ConflictPatterns>;
  listFailures(query: DashboardFailureListQuery): Promise<DashboardFailureList>;
  failureGroups(): Promise<FailureGroups>;
}
