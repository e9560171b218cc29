import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** Drops a `token` query parameter so a socket's credential never reaches a log line. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&]*/gi, '$1[REDACTED]');
}

/**
 * JSON log lines carrying the request's correlation id; credentials are never logged
 * (authorization and cookie headers are censored, socket tokens cut from URLs).
 */
export function loggerOptions(level: string): Exclude<FastifyServerOptions['logger'], undefined | boolean> {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[REDACTED]',
    },
    serializers: {
      req(req: FastifyRequest) {
        return { method: req.method, url: redactUrl(req.url) };
      },
    },
  };
}
