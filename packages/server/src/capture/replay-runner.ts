import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ReplayAvailability, ReplayContext, ReplayRunner } from '@sync-engine/dashboard';
import {
  SyncError,
  diffFields,
  isSyncError,
  type Redactor,
  type ReplayPreview,
  type ReplayResult,
} from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import { observePushOutcomes } from '../metrics/http-metrics.ts';
import type { PushAnswer, PushService } from '../sync/push/push-service.ts';
import type { MutationTrace } from '../sync/push/push-types.ts';
import { describeReason } from './capture-rows.ts';
import type { CaptureService } from './capture-service.ts';
import { cloneForReplay, loadReplaySource } from './replay-source.ts';

/** The route a replay is captured as: it is a push, made by the dashboard on the device's behalf. */
const PUSH_ROUTE = '/api/v1/sync/push';

export interface CaptureReplayRunnerOptions {
  readonly db: Kysely<DB>;
  readonly redactor: Redactor;
  readonly push: PushService;
  readonly capture: CaptureService;
  /** DASHBOARD_REPLAY_LIVE. */
  readonly liveEnabled: boolean;
  /** SYNC_MAX_CHANGES_PER_PUSH: a replay is held to the limits of a push. */
  readonly maxChanges: number;
}

function idOf(state: Readonly<Record<string, unknown>> | null): string | null {
  const id = state?.['id'];
  return typeof id === 'string' ? id : null;
}

/**
 * The server side of the dashboard's replay port. Preview and live replay both run a clone
 * of the captured push (new syncOperationId and requestIds) through the real push pipeline:
 * the preview through its decider without writing, the live replay through PushService as
 * the captured user and device, captured with `replayOf` pointing at the original.
 */
export class CaptureReplayRunner implements ReplayRunner {
  constructor(private readonly opts: CaptureReplayRunnerOptions) {}

  get liveEnabled(): boolean {
    return this.opts.liveEnabled;
  }

  async availability(captureId: string): Promise<ReplayAvailability> {
    try {
      await this.source(captureId);
      return { replayable: true };
    } catch (err) {
      if (isSyncError(err) && (err.code === 'NOT_FOUND' || err.code === 'REPLAY_UNAVAILABLE')) {
        return { replayable: false, code: err.code, reason: err.message };
      }
      throw err;
    }
  }

  async preview(captureId: string): Promise<ReplayPreview> {
    const source = await this.source(captureId);
    const clone = cloneForReplay(source.body);
    const traces = await this.opts.push.preview(source.userId, source.deviceId, clone.changes);
    return { requestId: captureId, mutations: traces.map((t) => this.previewOf(t)) };
  }

  async replay(captureId: string, context: ReplayContext): Promise<ReplayResult> {
    if (!this.opts.liveEnabled) {
      throw new SyncError('REPLAY_DISABLED', 'Live replay is off; start the server with DASHBOARD_REPLAY_LIVE=true');
    }
    const source = await this.source(captureId);
    const clone = cloneForReplay(source.body);
    const startedAtMs = Date.now();
    const started = performance.now();
    const replayRequestId = randomUUID();
    // Recorded here rather than by the capture hook: the dashboard request is not the push,
    // and the 201 must name the replay's capture id.
    const record = (httpStatus: number, body: unknown, push: PushAnswer | undefined) =>
      this.opts.capture.record({
        id: replayRequestId,
        kind: 'push',
        userId: source.userId,
        clientId: source.deviceId,
        correlationId: context.correlationId,
        syncOperationId: clone.syncOperationId,
        replayOf: captureId,
        method: 'POST',
        route: PUSH_ROUTE,
        url: PUSH_ROUTE,
        startedAtMs,
        durationMs: performance.now() - started,
        httpStatus,
        requestHeaders: {
          'content-type': 'application/json',
          'x-correlation-id': context.correlationId,
          'x-sync-replay-of': captureId,
        },
        requestBody: clone,
        requestBodyText: null,
        responseHeaders: { 'content-type': 'application/json; charset=utf-8' },
        responsePayload: JSON.stringify(body),
        trace: {
          kind: 'replay',
          userId: source.userId,
          deviceId: source.deviceId,
          syncOperationId: clone.syncOperationId,
          push,
        },
      });

    let answer: PushAnswer;
    try {
      answer = await this.opts.push.push(source.userId, clone);
    } catch (err) {
      // A replay that did not go through (the device is syncing, the database is down) is an
      // attempt the original lists too, with the error its push would have answered.
      const failure = isSyncError(err) ? err : new SyncError('INTERNAL', 'Internal server error');
      const error = { code: failure.code, message: failure.message, correlationId: context.correlationId };
      record(
        failure.status,
        { error: failure.details === undefined ? error : { ...error, details: failure.details } },
        undefined,
      );
      await this.opts.capture.flush();
      throw err;
    }
    observePushOutcomes(answer);
    record(answer.httpStatus, answer.body, answer);
    // Written before answering, so the replay can be opened as soon as the 201 arrives.
    await this.opts.capture.flush();
    return {
      replayRequestId,
      originalRequestId: captureId,
      syncOperationId: clone.syncOperationId,
    };
  }

  private source(captureId: string) {
    return loadReplaySource(this.opts.db, this.opts.redactor, captureId, this.opts.maxChanges);
  }

  /** One trace as the dashboard shows it: states and diff redacted like a capture's. */
  private previewOf(trace: MutationTrace): ReplayPreview['mutations'][number] {
    const { redactor } = this.opts;
    return {
      index: trace.index,
      outcome: trace.outcome,
      before: trace.before === null ? null : redactor.redact(trace.before),
      after: trace.after === null ? null : redactor.redact(trace.after),
      diff: redactor.redactDiff(diffFields(trace.before, trace.after)),
      entityType: trace.entityType,
      entityId: idOf(trace.after) ?? idOf(trace.before) ?? trace.entityId,
      changeType: trace.changeType,
      reason: describeReason(trace.reason).text,
    };
  }
}
