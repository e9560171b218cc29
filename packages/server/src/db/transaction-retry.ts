/** SQLSTATEs of a transaction PostgreSQL aborted because it lost a race: deadlock, serialization failure. */
const RACE_CODES: ReadonlySet<unknown> = new Set(['40P01', '40001']);

/** The error is PostgreSQL aborting a transaction to break a deadlock or a serialization race. */
export function isTransactionRace(err: unknown): boolean {
  return RACE_CODES.has((err as { code?: unknown } | null)?.code);
}

/**
 * Runs `run` (a whole transaction) again while it fails with an error `retryable` accepts,
 * `maxAttempts` times in all, after a short growing pause with jitter so the racers that
 * collided do not collide again. The last error is thrown as it came.
 */
export async function retryTransaction<T>(
  run: () => Promise<T>,
  options: { readonly maxAttempts: number; readonly retryable?: (err: unknown) => boolean },
): Promise<T> {
  const retryable = options.retryable ?? isTransactionRace;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= options.maxAttempts || !retryable(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
    }
  }
}
