/*
 * The shapes of the telemetry rollups of migration 0004 (kept by triggers on
 * capture_requests), as the reader needs them. The migration holds the same constants; it is
 * never edited, so changing one here means a new migration.
 */

/** capture_request_slots: counts per 5-second slot. */
export const REQUEST_SLOT_MS = 5_000;
/** capture_latency_bins: duration bins per 5-minute slot. */
export const LATENCY_SLOT_MS = 5 * 60_000;
/** capture_client_hours / capture_client_days: requests and mutations per client and hour / day. */
export const CLIENT_HOUR_MS = 60 * 60_000;
export const CLIENT_DAY_MS = 24 * CLIENT_HOUR_MS;

/**
 * Up to this many requests in a window, its percentiles and top clients are read from the raw
 * rows (cheap at this size; percentiles exact); above, from the rollups.
 */
export const RAW_WINDOW_MAX_REQUESTS = 20_000;

/** The start of the slot of `step` ms holding `ms` (slots are aligned on the epoch). */
export const slotFloor = (ms: number, step: number): number => Math.floor(ms / step) * step;
/** The first slot start at or after `ms`. */
export const slotCeil = (ms: number, step: number): number => Math.ceil(ms / step) * step;

/** Requests of one duration bin: durations in [startMs, endMs) (capture_latency_bin_start). */
export interface LatencyBin {
  readonly startMs: number;
  readonly endMs: number;
  readonly requests: number;
}

/**
 * A percentile (`percentile_cont` semantics: linear between the two nearest ranks) read from
 * duration bins. A rank inside a bin is placed by its position among the bin's requests on a
 * log scale, so the answer is within one bin (5 %) of the exact one, in practice far closer.
 */
export function percentileFromBins(bins: readonly LatencyBin[], p: number): number {
  const sorted = bins.filter((b) => b.requests > 0).sort((a, b) => a.startMs - b.startMs);
  const total = sorted.reduce((sum, b) => sum + b.requests, 0);
  if (total === 0) return 0;
  const valueAt = (rank: number): number => {
    let before = 0;
    for (const bin of sorted) {
      if (rank < before + bin.requests) {
        const position = (rank - before + 0.5) / bin.requests;
        return bin.startMs * (bin.endMs / bin.startMs) ** position;
      }
      before += bin.requests;
    }
    return sorted[sorted.length - 1]!.endMs;
  };
  const rank = p * (total - 1);
  const lo = Math.floor(rank);
  const low = valueAt(lo);
  return low + (valueAt(Math.ceil(rank)) - low) * (rank - lo);
}
