import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import { createRedactor } from '@sync-engine/shared';

/** Drops a `token` query parameter so a socket's credential never reaches a log line. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&]*/gi, '$1[REDACTED]');
}

/**
 * JSON log lines carrying the request's correlation id; credentials are never logged
 * (authorization and cookie headers are censored, socket tokens cut from URLs), and every
 * value under a sensitive key (CONTRACT §9's list plus `redactKeys`, at any depth of a
 * logged object, and in URL query parameters) is `[REDACTED]`.
 */
export function loggerOptions(
  level: string,
  redactKeys: readonly string[] = [],
): Exclude<FastifyServerOptions['logger'], undefined | boolean> {
  const redactor = createRedactor(redactKeys);
  return {
    level,
    formatters: {
      // Runs before the serializers: plain objects and arrays are redacted, anything else
      // (the request, the reply, errors) is left to its serializer.
      log: (object: Record<string, unknown>) => redactor.redact(object),
    },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[REDACTED]',
    },
    serializers: {
      req(req: FastifyRequest) {
        return { method: req.method, url: redactor.redactUrl(redactUrl(req.url)) };
      },
    },
  };
}
