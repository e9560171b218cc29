import type { EntityType, ErrorDetail } from '@sync-engine/shared';

/** What went wrong, as a literal the app can switch on. */
export type SyncClientErrorKind =
  /** The server answered an error status (see `status` and `code`). */
  | 'HTTP'
  /** No answer: connection refused, reset, DNS, timeout. Safe to retry later. */
  | 'NETWORK'
  /** The server's answer does not match the shared contract schemas. */
  | 'PROTOCOL'
  /** A local write breaks a field rule; nothing was written. */
  | 'VALIDATION'
  /** A local write names an entity this device does not hold. */
  | 'NOT_FOUND'
  /** The client was closed. */
  | 'CLOSED';

/** The one base class of the SDK's errors. */
export class SyncClientError extends Error {
  readonly kind: SyncClientErrorKind;
  /** Whether doing the same again later can succeed. */
  readonly retryable: boolean;

  constructor(
    kind: SyncClientErrorKind,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncClientError';
    this.kind = kind;
    this.retryable = options.retryable ?? false;
  }
}

/** A non-2xx answer, with the contract's error envelope when the server sent one. */
export class SyncHttpError extends SyncClientError {
  readonly status: number;
  /** The envelope's UPPER_SNAKE code (e.g. RATE_LIMIT_EXCEEDED), or `HTTP_<status>`. */
  readonly code: string;
  readonly details: readonly ErrorDetail[];
  readonly correlationId: string | undefined;
  /** The server's Retry-After, in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    details?: readonly ErrorDetail[];
    correlationId?: string | undefined;
    retryAfterMs?: number | undefined;
  }) {
    super('HTTP', `${init.status} ${init.code}: ${init.message}`, {
      retryable: isRetryableStatus(init.status),
    });
    this.name = 'SyncHttpError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? [];
    this.correlationId = init.correlationId;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** The request got no answer (after the retries the policy allows). */
export class SyncNetworkError extends SyncClientError {
  constructor(message: string, cause: unknown) {
    super('NETWORK', message, { retryable: true, cause });
    this.name = 'SyncNetworkError';
  }
}

/** The server answered something the shared contract does not allow. */
export class SyncProtocolError extends SyncClientError {
  readonly issues: readonly ErrorDetail[];

  constructor(message: string, issues: readonly ErrorDetail[] = []) {
    super('PROTOCOL', message);
    this.name = 'SyncProtocolError';
    this.issues = issues;
  }
}

/** A local write the server would refuse; details name the fields (`changeData.name`). */
export class LocalValidationError extends SyncClientError {
  readonly entityType: EntityType;
  readonly details: readonly ErrorDetail[];

  constructor(entityType: EntityType, details: readonly ErrorDetail[]) {
    super(
      'VALIDATION',
      `invalid ${entityType} change: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
    );
    this.name = 'LocalValidationError';
    this.entityType = entityType;
    this.details = details;
  }
}

/** A local write or read names an entity the device does not hold (or holds as a tombstone). */
export class LocalNotFoundError extends SyncClientError {
  readonly entityType: EntityType;
  readonly entityId: string;

  constructor(entityType: EntityType, entityId: string, reason = 'not found') {
    super('NOT_FOUND', `${entityType} ${entityId}: ${reason}`);
    this.name = 'LocalNotFoundError';
    this.entityType = entityType;
    this.entityId = entityId;
  }
}

/** 409 (lock), 429 (rate), 5xx: the same request may succeed later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
