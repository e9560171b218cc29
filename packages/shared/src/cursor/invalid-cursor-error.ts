import { SyncError } from '../errors/sync-error.ts';

/** Why a cursor was refused; for logs only, clients all see INVALID_CURSOR. */
export const INVALID_CURSOR_REASONS = [
  'malformed',
  'bad_signature',
  'unsupported_version',
  'wrong_user',
  'invalid_position',
] as const;
export type InvalidCursorReason = (typeof INVALID_CURSOR_REASONS)[number];

/**
 * A cursor that does not decode, was altered, was issued to another user or has a newer
 * schema version. Maps to `400 INVALID_CURSOR`. The message never says which user a
 * cursor belongs to, so another user's cursor reads like garbage.
 */
export class InvalidCursorError extends SyncError {
  readonly reason: InvalidCursorReason;

  constructor(reason: InvalidCursorReason) {
    super(
      'INVALID_CURSOR',
      reason === 'unsupported_version'
        ? 'The cursor has a newer schema version than this server understands.'
        : 'The cursor is not valid for this user.',
    );
    this.name = 'InvalidCursorError';
    this.reason = reason;
  }
}
