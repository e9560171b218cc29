import { canonicalJson } from './json-equality.ts';
import { FIELD_POLICY, type FieldPolicy } from './strategies.ts';

/**
 * The two sides of one conflicting field. `local` is the client's value (`undefined` = the
 * client's patch does not carry the field), `server` the stored one. Timestamps are ISO-8601
 * strings (the change's `updatedAt` and the stored state's `updatedAt`); versions are the
 * client's base version (`syncVersion`) and the stored `version`.
 */
export interface FieldResolutionInput {
  readonly local: unknown;
  readonly server: unknown;
  readonly localUpdatedAt?: string | null | undefined;
  readonly serverUpdatedAt?: string | null | undefined;
  readonly localVersion?: number | undefined;
  readonly serverVersion?: number | undefined;
  /** For MONOTONIC: the allowed states, earliest first. */
  readonly transitions?: readonly unknown[] | undefined;
}

export type FieldResolver = (input: FieldResolutionInput) => unknown;

const isNullish = (v: unknown): v is null | undefined => v === null || v === undefined;
const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** LOCAL_WINS: the client's value. */
export function localWins({ local }: FieldResolutionInput): unknown {
  return local;
}

/** SERVER_WINS: the stored value. */
export function serverWins({ server }: FieldResolutionInput): unknown {
  return server;
}

function timeOf(iso: string | null | undefined): number | undefined {
  if (typeof iso !== 'string') return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * LAST_WRITE_WINS: the side with the newer `updatedAt`; when the times are equal, either is
 * missing or unparsable, the side with the higher version; when the versions are equal or
 * either is missing, the server.
 * The server wins every tie so that the outcome never depends on which side asks.
 */
export function lastWriteWins(input: FieldResolutionInput): unknown {
  const localTime = timeOf(input.localUpdatedAt);
  const serverTime = timeOf(input.serverUpdatedAt);
  if (localTime !== undefined && serverTime !== undefined && localTime !== serverTime) {
    return localTime > serverTime ? input.local : input.server;
  }
  const { localVersion, serverVersion } = input;
  if (localVersion !== undefined && serverVersion !== undefined && localVersion > serverVersion) {
    return input.local;
  }
  return input.server;
}

/**
 * MERGE_ARRAYS: the deduplicated union — server elements in server order, then the
 * client-only elements in client order. Elements are compared by deep (JSON) equality, and
 * duplicates within one side collapse too, so the result never holds two equal elements.
 * A side that is not an array contributes nothing; if neither is, the server value stays.
 */
export function mergeArrays({ local, server }: FieldResolutionInput): unknown {
  if (!Array.isArray(local) && !Array.isArray(server)) return server;
  const seen = new Set<string>();
  const merged: unknown[] = [];
  for (const side of [server, local]) {
    if (!Array.isArray(side)) continue;
    for (const element of side as unknown[]) {
      const key = canonicalJson(element);
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push(element);
    }
  }
  return merged;
}

/**
 * MONOTONIC: the side whose state comes later in `transitions`; a state never moves
 * backwards. When either value is not in `transitions` (or none are configured) the server
 * value stays: an unknown state cannot be ordered, and the stored one is the safe choice.
 */
export function monotonic({ local, server, transitions }: FieldResolutionInput): unknown {
  if (!transitions) return server;
  const localRank = transitions.indexOf(local);
  const serverRank = transitions.indexOf(server);
  if (localRank < 0 || serverRank < 0) return server;
  return localRank > serverRank ? local : server;
}

function pickNumber(local: unknown, server: unknown, pick: (a: number, b: number) => number) {
  if (isNumber(local) && isNumber(server)) return pick(local, server);
  if (isNumber(local)) return local;
  if (isNumber(server)) return server;
  return server;
}

/** MAX_VALUE: the larger number; a side that holds no number (null, missing) yields to the other. */
export function maxValue({ local, server }: FieldResolutionInput): unknown {
  return pickNumber(local, server, Math.max);
}

/** MIN_VALUE: the smaller number; a side that holds no number (null, missing) yields to the other. */
export function minValue({ local, server }: FieldResolutionInput): unknown {
  return pickNumber(local, server, Math.min);
}

/**
 * SERVER_IF_LOCAL_NULL: the client's value is the base; the server's fills in only where the
 * client holds null (or nothing).
 */
export function serverIfLocalNull({ local, server }: FieldResolutionInput): unknown {
  return isNullish(local) ? server : local;
}

/**
 * LOCAL_IF_SERVER_NULL: the server's value is the base; the client's fills in only where the
 * server holds null (or nothing) — it never overwrites a value the server has.
 */
export function localIfServerNull({ local, server }: FieldResolutionInput): unknown {
  return isNullish(server) ? local : server;
}

/**
 * MANUAL: a person decides, so no rule may pick the client's value. When a merge has to be
 * computed anyway (a pending conflict resolved with MERGE and no merged data), the stored
 * value stays.
 */
export function manual({ server }: FieldResolutionInput): unknown {
  return server;
}

/** One pure resolver per field policy; exhaustive over FIELD_POLICY by type. */
export const FIELD_POLICY_RESOLVERS: Readonly<Record<FieldPolicy, FieldResolver>> = Object.freeze({
  [FIELD_POLICY.LOCAL_WINS]: localWins,
  [FIELD_POLICY.SERVER_WINS]: serverWins,
  [FIELD_POLICY.LAST_WRITE_WINS]: lastWriteWins,
  [FIELD_POLICY.MERGE_ARRAYS]: mergeArrays,
  [FIELD_POLICY.MONOTONIC]: monotonic,
  [FIELD_POLICY.MAX_VALUE]: maxValue,
  [FIELD_POLICY.MIN_VALUE]: minValue,
  [FIELD_POLICY.SERVER_IF_LOCAL_NULL]: serverIfLocalNull,
  [FIELD_POLICY.LOCAL_IF_SERVER_NULL]: localIfServerNull,
  [FIELD_POLICY.MANUAL]: manual,
});

/**
 * Resolves one field by its policy. A `local` of `undefined` means the client did not send
 * the field, so the server value stays whatever the policy. Resolving a value against
 * itself returns it unchanged (for MERGE_ARRAYS: once it holds no duplicates).
 */
export function resolveFieldValue(policy: FieldPolicy, input: FieldResolutionInput): unknown {
  if (input.local === undefined) return input.server;
  return FIELD_POLICY_RESOLVERS[policy](input);
}
