/** One outbox event as the processor hands it to subscribers. */
export interface OutboxEvent {
  readonly id: string;
  readonly userId: string | null;
  readonly eventType: string;
  readonly payload: unknown;
  /** Delivery attempts so far, this one included (1 on the first delivery). */
  readonly attempts: number;
  readonly createdAt: string;
}

/**
 * A consumer of domain events (the realtime broadcaster, an audit log, a webhook…).
 * Delivery is at least once: an event is delivered again to every subscriber when one of
 * them failed, or when an instance died mid-delivery, so `deliver` must tolerate repeats.
 * Throwing (or not settling within the delivery timeout) counts as a failed attempt.
 */
export interface OutboxSubscriber {
  /** Names the subscriber in `last_error` and logs. */
  readonly name: string;
  /** Whether it wants events of this type; absent = every type. */
  handles?(eventType: string): boolean;
  deliver(event: OutboxEvent): Promise<void>;
}
