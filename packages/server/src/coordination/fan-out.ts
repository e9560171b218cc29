/** Receives every message published on a fan-out, from any instance. */
export type FanOutListener<T> = (message: T) => void;

/**
 * Broadcast between server instances (the realtime path). Adapters: in-process (one
 * instance) and Redis pub/sub (every instance subscribed to one channel). Invariants every
 * adapter keeps, checked by one conformance suite (test/coordination/fan-out.conformance.ts):
 * - once `start()` resolved, every message later published on any instance sharing the
 *   channel reaches every listener of this one, the publisher's own included, as an equal
 *   JSON value (messages must be JSON);
 * - delivery is at most once and best effort: a message published while an instance is not
 *   subscribed is not replayed (durability is the outbox's job, not the fan-out's);
 * - a listener that throws does not keep the message from the other listeners.
 */
export interface FanOut<T> {
  readonly kind: 'in-process' | 'redis';
  /** Subscribes; resolves once messages published from now on will arrive. Idempotent. */
  start(): Promise<void>;
  publish(message: T): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: FanOutListener<T>): () => void;
  /** Resolves when the transport answers; rejects when it cannot (health). */
  ping(): Promise<void>;
  /** Unsubscribes and releases the connection it owns; idempotent. */
  close(): Promise<void>;
}

/** Calls every listener; one that throws is reported and the others still get the message. */
export function dispatch<T>(
  listeners: Iterable<FanOutListener<T>>,
  message: T,
  onError: (err: unknown) => void,
): void {
  for (const listener of listeners) {
    try {
      listener(message);
    } catch (err) {
      onError(err);
    }
  }
}
