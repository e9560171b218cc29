import type { FetchFunction } from '@sync-engine/client';
import type { SeededRandom } from './rng.ts';

/** A network that loses a share of requests, or of answers. */
export interface LossyNetwork {
  readonly fetch: FetchFunction;
  /** Requests that never reached the server, and answers lost after the server acted. */
  readonly stats: { lostRequests: number; lostAnswers: number };
  /** Off: every request and answer gets through (the settling phase of a simulation). */
  setEnabled(enabled: boolean): void;
}

/**
 * Wraps fetch so that, with probability `lossRate`, a request fails before it is sent, or
 * (as often) is sent and acted on but its answer never arrives. The second is the case that
 * makes idempotency matter: the client must retry with the same syncOperationId, and the
 * server must not apply the changes twice.
 */
export function lossyNetwork(
  rng: SeededRandom,
  lossRate: number,
  inner: FetchFunction = (i, init) => fetch(i, init),
): LossyNetwork {
  let enabled = true;
  const stats = { lostRequests: 0, lostAnswers: 0 };
  return {
    stats,
    setEnabled(value) {
      enabled = value;
    },
    async fetch(input, init) {
      const roll = enabled ? rng.float() : 1;
      if (roll < lossRate / 2) {
        stats.lostRequests++;
        throw new TypeError('fetch failed (simulated: request lost)');
      }
      const response = await inner(input, init);
      if (roll < lossRate) {
        await response.arrayBuffer();
        stats.lostAnswers++;
        throw new TypeError('fetch failed (simulated: answer lost)');
      }
      return response;
    },
  };
}
