import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CORRELATION_HEADER = 'x-correlation-id';
const VALID = /^[A-Za-z0-9._-]{1,128}$/;

/** Echoes a well-formed client correlation id, otherwise makes a new one. */
export function correlationIdFor(req: IncomingMessage): string {
  const sent = req.headers[CORRELATION_HEADER];
  const value = Array.isArray(sent) ? sent[0] : sent;
  return value !== undefined && VALID.test(value) ? value : randomUUID();
}
