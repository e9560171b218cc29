import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SyncError, isSyncError, zodIssuesToDetails } from '@sync-engine/shared';
import type { SafeHtml } from './html.ts';
import { errorView } from './views/error-view.ts';
import { pageCsp, type ViewContext } from './views/layout.ts';
import type { DashboardPaths } from './views/paths.ts';

/** Forms are a few fields; anything bigger is not ours. */
const FORM_BODY_LIMIT = 64 * 1024;

/**
 * Sends a page with the headers every page carries: a fresh CSP nonce (no script may run;
 * the one <style> needs the nonce), no sniffing, no framing, no caching of operator data.
 */
export function sendPage(
  reply: FastifyReply,
  status: number,
  paths: DashboardPaths,
  view: (ctx: ViewContext) => SafeHtml,
  userId?: string,
): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', pageCsp(nonce))
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(view({ paths, nonce, userId }).toString());
}

/** Parses a page's query or form with `schema`; a bad value is a 400 page naming the fields. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new SyncError('VALIDATION_ERROR', 'The page was asked with invalid parameters', {
    details: zodIssuesToDetails(parsed.error.issues),
  });
}

function asSyncError(err: unknown): SyncError | undefined {
  if (isSyncError(err)) return err;
  if (err instanceof z.ZodError) {
    return new SyncError('VALIDATION_ERROR', 'The page was asked with invalid parameters', {
      details: zodIssuesToDetails(err.issues),
    });
  }
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = err instanceof Error ? err.message : 'Bad request';
    if (status === 413) return new SyncError('PAYLOAD_TOO_LARGE', message);
    if (status === 415) return new SyncError('UNSUPPORTED_MEDIA_TYPE', message);
    if (status === 404) return new SyncError('NOT_FOUND', message);
    return new SyncError('VALIDATION_ERROR', message);
  }
  return undefined;
}

/**
 * Pages answer errors as pages (the JSON envelope is for the API): the status and code of
 * the SyncError with its message and field details; anything unexpected is logged and shown
 * as a bare 500 (no stack, no SQL), like the API does.
 */
export function installPageErrors(
  app: FastifyInstance,
  paths: DashboardPaths,
  userOf: (request: FastifyRequest) => string | undefined,
): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let error = asSyncError(err);
    if (error === undefined) {
      request.log.error({ err }, 'dashboard page failed');
      error = new SyncError('INTERNAL', 'Internal server error');
    } else if (error.status >= 500) {
      request.log.error({ err }, 'dashboard page failed');
    }
    if (error.retryAfterSeconds !== undefined) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
    }
    const details = error.details?.map((d) => `${d.field}: ${d.message}`).join('; ');
    const message =
      details === undefined || details === '' ? error.message : `${error.message} (${details})`;
    const { status, code } = error;
    return sendPage(
      reply,
      status,
      paths,
      (ctx) => errorView(ctx, status, code, message),
      userOf(request),
    );
  });
}

/** `application/x-www-form-urlencoded` bodies (the login and replay forms) as a flat record. */
export function installFormParsing(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      done(null, Object.fromEntries(new URLSearchParams(text)));
    },
  );
}

/**
 * A form post must come from a dashboard page: a browser names the page's origin in
 * `Origin`, and one that names another site is refused. (The session cookie is
 * SameSite=Strict, so such a post would carry no session anyway; this is the second lock.)
 */
export function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new SyncError('FORBIDDEN', 'The form was posted from an unknown origin');
  }
  if (host !== request.host)
    throw new SyncError('FORBIDDEN', 'The form was posted from another site');
}

/** A form field as a string ('' when absent or repeated oddly). */
export function formField(body: unknown, name: string): string {
  const value =
    body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}
