import type { ReplayPreview, ReplayResult } from '@sync-engine/shared';

/** Whether a capture can be replayed, and if not, why (shown beside the disabled buttons). */
export type ReplayAvailability =
  | { readonly replayable: true }
  | {
      readonly replayable: false;
      readonly code: 'NOT_FOUND' | 'REPLAY_UNAVAILABLE';
      readonly reason: string;
    };

/** Where a live replay was asked from, so its capture and logs can be found. */
export interface ReplayContext {
  /** The X-Correlation-ID of the dashboard request that asked for the replay. */
  readonly correlationId: string;
}

/**
 * Replay of captured pushes, supplied by the server (it owns the push pipeline). Methods
 * throw SyncError: NOT_FOUND (unknown or non-push capture), REPLAY_UNAVAILABLE (the capture
 * cannot be replayed faithfully), REPLAY_DISABLED (live replay off), SYNC_IN_PROGRESS.
 */
export interface ReplayRunner {
  /** DASHBOARD_REPLAY_LIVE: whether `replay` may run at all. */
  readonly liveEnabled: boolean;
  availability(captureId: string): Promise<ReplayAvailability>;
  /** What each captured mutation would do now; writes nothing. States are redacted. */
  preview(captureId: string): Promise<ReplayPreview>;
  /**
   * Pushes a clone of the capture (new syncOperationId and requestIds) for its user and
   * device; the clone is captured with `replayOf` = `captureId` and is readable when this
   * resolves. The original capture is left as it is.
   */
  replay(captureId: string, context: ReplayContext): Promise<ReplayResult>;
}
