import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CaptureKind } from '../db/schema.ts';
import type { CaptureService } from './capture-service.ts';
import type { PendingCapture } from './pending-capture.ts';

/** The sync routes whose every answer is captured, by route pattern. */
export const CAPTURED_ROUTES: Readonly<Record<string, CaptureKind>> = Object.freeze({
  '/api/v1/sync/push': 'push',
  '/api/v1/sync/changes': 'pull',
  '/api/v1/sync/full': 'full',
});

function shortId(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : null;
}

function field(source: unknown, name: string): unknown {
  return source !== null && typeof source === 'object' && !Array.isArray(source)
    ? (source as Record<string, unknown>)[name]
    : undefined;
}

/**
 * What to capture of a sync request, or null for any other request. Takes references
 * only; redaction and serialisation happen in the flusher. An answer given before the
 * caller was authenticated (401) has no user and is not captured.
 */
export function pendingCaptureOf(request: FastifyRequest, reply: FastifyReply, payload: unknown): PendingCapture | null {
  const trace = request.syncTrace;
  const route = request.routeOptions.url;
  const routeKind = route === undefined ? undefined : CAPTURED_ROUTES[route];
  if (trace === null && routeKind === undefined) return null;
  const userId = trace?.userId ?? request.principal?.userId;
  if (userId === undefined) return null;

  const kind: CaptureKind = trace === null ? (routeKind ?? 'push') : trace.kind === 'replay' ? 'push' : trace.kind;
  const input = request.method === 'GET' ? request.query : request.body;
  const durationMs = reply.elapsedTime;
  return {
    id: randomUUID(),
    kind,
    userId,
    clientId: shortId(trace?.deviceId) ?? shortId(field(input, 'deviceId')),
    correlationId: String(request.id),
    syncOperationId: shortId(trace?.syncOperationId) ?? shortId(field(request.body, 'syncOperationId')),
    replayOf: null,
    method: request.method,
    route: route ?? request.url.split('?')[0] ?? '',
    url: request.url,
    startedAtMs: Date.now() - durationMs,
    durationMs,
    httpStatus: reply.statusCode,
    requestHeaders: { ...request.headers },
    requestBody: request.body,
    requestBodyText: request.jsonBodyText,
    responseHeaders: reply.getHeaders(),
    responsePayload: payload,
    trace,
  };
}

/**
 * Captures every answer of the sync routes (errors included) as it is sent: `onSend` sees
 * the status and the serialised body, and runs before the client can have the answer, so a
 * flush after a response always includes its capture.
 */
export function installCaptureHooks(app: FastifyInstance, capture: CaptureService): void {
  app.addHook('onSend', async (request, reply, payload) => {
    try {
      const pending = pendingCaptureOf(request, reply, payload);
      if (pending !== null) capture.record(pending);
    } catch (err) {
      request.log.warn({ err }, 'capturing the request failed');
    }
    return payload;
  });
}
