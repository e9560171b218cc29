/**
 * Version of the sync protocol (the request/response shapes of contracts/ and the cursor
 * layout). Bump it, and CURSOR_SCHEMA_VERSION when the cursor changed, on any wire change.
 */
export const PROTOCOL_VERSION = 2;

/**
 * sha256 of the wire format (every exported contract schema as JSON Schema, the cursor
 * layout and both versions). contracts/wire-format.test.ts recomputes it and fails until
 * this constant is updated, so no wire change slips in unversioned.
 */
export const PROTOCOL_FINGERPRINT =
  'c390977557b96c80ca2b9e7fafaad525b8ba8b24f6cae46d2c80903c8c0e77fa';
