import { z } from 'zod';
import { ENTITY_SYNC_ORDER } from '../entities/entity-types.ts';
import { CursorPositionSchema } from './position.ts';

/**
 * Version of the cursor payload's layout. Bump it whenever the payload or token layout
 * changes; a server refuses cursors with a newer version (400 INVALID_CURSOR).
 */
export const CURSOR_SCHEMA_VERSION = 1;

/** The token's outer layout, pinned by the wire-format test with the payload schema. */
export const CURSOR_TOKEN_LAYOUT =
  'base64url(JSON payload) "." base64url(HMAC-SHA256(macKey, payloadPart)[0..16]); ' +
  'macKey = HMAC-SHA256(key, "sync-engine/cursor/mac"); ' +
  'u = hex(HMAC-SHA256(HMAC-SHA256(key, "sync-engine/cursor/user"), JSON(userId))[0..8])';

/**
 * The signed cursor payload: `v` schema version, `u` user binding (a keyed digest of the
 * userId, never the userId itself), `p` composite position, `e` per-entity positions.
 */
export const CursorPayloadSchema = z.strictObject({
  v: z.literal(CURSOR_SCHEMA_VERSION),
  u: z.string().regex(/^[0-9a-f]{16}$/),
  p: CursorPositionSchema,
  e: z.partialRecord(z.enum(ENTITY_SYNC_ORDER), CursorPositionSchema).optional(),
});
export type CursorPayload = z.infer<typeof CursorPayloadSchema>;
