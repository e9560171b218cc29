/**
 * Version of the sync protocol (the request/response shapes of contracts/ and the cursor
 * layout). Bump it, and CURSOR_SCHEMA_VERSION when the cursor changed, on any wire change.
 */
export const PROTOCOL_VERSION = 1;

/**
 * sha256 of the wire format (every exported contract schema as JSON Schema, the cursor
 * layout and both versions). contracts/wire-format.test.ts recomputes it and fails until
 * this constant is updated, so no wire change slips in unversioned.
 */
export const PROTOCOL_FINGERPRINT =
  '8aa7284e06a6dbb5d9555333976f629796075465bd741beeae1b8c910d4eaecc';
