/**
 * The one error catalogue: every code the API can answer, with its HTTP status and meaning.
 * docs/errors.md and CONTRACT §2 are kept in step with this table by a test.
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { status: 400, meaning: 'The request or one change in it breaks a rule; details name the fields.' },
  INVALID_CURSOR: { status: 400, meaning: 'The cursor was not issued by this server to this user, or was altered.' },
  LEASE_REQUIRED: { status: 400, meaning: 'A catalog pull needs a leaseId from POST /api/v1/sync/lease.' },
  UNAUTHENTICATED: { status: 401, meaning: 'The bearer token is missing, malformed, expired or wrongly signed.' },
  FORBIDDEN: { status: 403, meaning: 'The caller is authenticated but not allowed to do this.' },
  REPLAY_DISABLED: { status: 403, meaning: 'Live replay is off (DASHBOARD_REPLAY_LIVE is not true).' },
  NOT_FOUND: { status: 404, meaning: 'No such route or resource for this user.' },
  SYNC_IN_PROGRESS: { status: 409, meaning: 'Another push or full sync of this user and device is running; retry after Retry-After.' },
  CURSOR_EXPIRED: { status: 410, meaning: 'The changes after this cursor were compacted away; do a full resync.' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The body (decompressed) is larger than the limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'A JSON route was sent another content type.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, meaning: 'This syncOperationId was used before with a different body.' },
  REPLAY_UNAVAILABLE: {
    status: 422,
    meaning: 'This capture cannot be replayed faithfully: its changes hold redacted values, or its body was cut or invalid.',
  },
  RATE_LIMIT_EXCEEDED: { status: 429, meaning: 'A rate or lease limit was reached; retry after Retry-After seconds.' },
  INTERNAL: { status: 500, meaning: 'An unexpected server fault; the correlation id finds it in the logs.' },
  UNAVAILABLE: { status: 503, meaning: 'A dependency (database, Redis) is unreachable; retry later.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Codes of one change inside a push answer's `failed` list, or of one resolution inside a
 * resolve answer. They never become the status of the whole request.
 */
export const CHANGE_ERROR_CODES = {
  VALIDATION_ERROR: { retryable: false, meaning: 'The change breaks a field rule; details name the fields.' },
  FK_NOT_FOUND: { retryable: true, meaning: 'A required foreign key names no entity of the user (yet).' },
  NOT_FOUND: { retryable: false, meaning: 'The UPDATE names no entity of the user.' },
  CONFLICT_ALREADY_RESOLVED: { retryable: false, meaning: 'The conflict was resolved before.' },
  INTERNAL: { retryable: true, meaning: 'A transient server fault while applying this change; push it again.' },
} as const;

export type ChangeErrorCode = keyof typeof CHANGE_ERROR_CODES;

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
