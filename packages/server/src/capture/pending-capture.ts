import type { SyncTrace } from '../http/sync-trace.ts';
import type { CaptureKind } from '../db/schema.ts';

/**
 * A sync request as the capture hook saw it, not yet redacted or serialised: the hook only
 * takes references (cheap, on the request path); the flusher does the work off it.
 */
export interface PendingCapture {
  readonly id: string;
  readonly kind: CaptureKind;
  readonly userId: string;
  /** The request's deviceId. */
  readonly clientId: string | null;
  readonly correlationId: string;
  readonly syncOperationId: string | null;
  readonly replayOf: string | null;
  readonly method: string;
  readonly route: string;
  readonly url: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly httpStatus: number;
  readonly requestHeaders: Readonly<Record<string, unknown>>;
  /** The parsed JSON body (undefined when there was none or it did not parse). */
  readonly requestBody: unknown;
  /** The same body's text as it arrived, when it parsed. */
  readonly requestBodyText: string | null;
  readonly responseHeaders: Readonly<Record<string, unknown>>;
  /** The serialised answer as Fastify sends it (a JSON string), if any. */
  readonly responsePayload: unknown;
  readonly trace: SyncTrace | null;
}

/** How much a pending capture weighs in the queue: the request plus each of its changes. */
export function captureWeight(capture: PendingCapture): number {
  const traced = capture.trace?.push?.mutations.length ?? 0;
  const body = capture.requestBody as { changes?: unknown } | null | undefined;
  const sent = Array.isArray(body?.changes) ? body.changes.length : 0;
  return 1 + Math.max(traced, sent);
}
