import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '../conflicts/json-equality.ts';

/** Everything that decides the body of one `GET /sync/changes` page. */
interface SyncChangesEtagBase {
  readonly userId: string;
  /** The cursor the request carried (absent = from the start). */
  readonly cursorIn: string | null | undefined;
  /** The cursor the page answers with. */
  readonly cursorOut: string;
  /** The parsed filter (undefined = all types). */
  readonly entityTypes: readonly string[] | undefined;
  readonly limit: number;
  readonly scope?: string | undefined;
  /** The requesting device: its own changes are left out of the page. */
  readonly deviceId?: string | null | undefined;
  readonly hasMore?: boolean | undefined;
}

/**
 * The page's content: `changeIds` when a change id always carries the same data (include a
 * version, e.g. `id@version`, if the data is the entity's latest state), else `pageDigest`
 * (see computePageDigest) over the exact changes sent.
 */
export type SyncChangesEtagInput = SyncChangesEtagBase &
  (
    | { readonly changeIds: readonly string[]; readonly pageDigest?: string }
    | { readonly pageDigest: string }
  );

/** sha256 (hex) of a page's changes in canonical JSON: equal pages, equal digests. */
export function computePageDigest(changes: unknown): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(changes))));
}

/**
 * A strong ETag (quoted) for a pull page. Equal inputs give equal ETags; a different user,
 * filter, cursor, limit, device, `hasMore` or page content gives a different one (sha256
 * over an unambiguous encoding), so `If-None-Match` → 304 only when the body would be the same.
 */
export function computeSyncChangesEtag(input: SyncChangesEtagInput): string {
  const encoded = JSON.stringify([
    'sync-changes-etag/1',
    input.userId,
    input.cursorIn ?? null,
    input.cursorOut,
    input.entityTypes ?? null,
    input.limit,
    input.scope ?? null,
    input.deviceId ?? null,
    input.hasMore ?? null,
    'changeIds' in input ? input.changeIds : null,
    input.pageDigest ?? null,
  ]);
  return `"${bytesToHex(sha256(utf8ToBytes(encoded)))}"`;
}
