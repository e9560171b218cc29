import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { SyncError, zodIssuesToDetails, type ErrorCode, type ErrorDetail } from '@sync-engine/shared';

/** Writes the contract's error envelope, with Retry-After where the error carries one. */
export function sendError(reply: FastifyReply, error: SyncError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  const body: { code: string; message: string; details?: readonly ErrorDetail[]; correlationId: string } = {
    code: error.code,
    message: error.message,
    correlationId: String(reply.request.id),
  };
  if (error.details !== undefined && error.details.length > 0) body.details = error.details;
  return reply.status(error.status).type('application/json; charset=utf-8').send({ error: body });
}

/** Maps Fastify's own parse/limit errors to catalogued codes. */
function fromFastifyError(err: FastifyError): SyncError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SyncError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SyncError('PAYLOAD_TOO_LARGE', 'Request body is larger than the limit');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SyncError('VALIDATION_ERROR', 'Request body must not be empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SyncError('VALIDATION_ERROR', 'Request body is not valid JSON');
    default:
      break;
  }
  if (err.validation !== undefined) {
    return new SyncError('VALIDATION_ERROR', err.message);
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 404 ? 'NOT_FOUND' : 'VALIDATION_ERROR';
    return new SyncError(code, err.message);
  }
  return undefined;
}

/**
 * The one error handler: SyncError, Zod failures and Fastify client errors become the
 * envelope with their status; anything else is logged and answered as a bare 500 INTERNAL
 * (no stack, no SQL).
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof SyncError) {
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      return sendError(reply, err);
    }
    if (err instanceof ZodError) {
      return sendError(
        reply,
        new SyncError('VALIDATION_ERROR', 'Request is invalid', { details: zodIssuesToDetails(err.issues) }),
      );
    }
    const mapped = typeof err === 'object' && err !== null && 'code' in err ? fromFastifyError(err as FastifyError) : undefined;
    if (mapped) return sendError(reply, mapped);
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, new SyncError('INTERNAL', 'Internal server error'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new SyncError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}
