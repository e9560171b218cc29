import { ERROR_CODES, type ErrorCode } from './codes.ts';

export interface ErrorDetail {
  readonly field: string;
  readonly message: string;
}

/** The contract's error body: `{ error: { code, message, details?, correlationId? } }`. */
export interface ErrorEnvelope {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: readonly ErrorDetail[];
    readonly correlationId?: string;
  };
}

/** The one error class: a catalogued code, a message safe to show, optional field details. */
export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: readonly ErrorDetail[] | undefined;
  /** Seconds a client should wait (sent as Retry-After), for 409/429/503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: readonly ErrorDetail[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isSyncError(value: unknown): value is SyncError {
  return value instanceof SyncError;
}
