import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { DB } from '../db/schema.ts';
import {
  claimDueEvents,
  markDelivered,
  markFailed,
  outboxCounts,
  pruneDelivered,
  type OutboxCounts,
} from './outbox-store.ts';
import type { OutboxEvent, OutboxSubscriber } from './outbox-subscriber.ts';
import { retryDelayMs, type BackoffPolicy } from './retry-backoff.ts';

export interface OutboxProcessorOptions {
  readonly db: Kysely<DB>;
  readonly subscribers: readonly OutboxSubscriber[];
  readonly log: Pick<FastifyBaseLogger, 'warn' | 'error' | 'debug'>;
  /** Due events are looked for at least this often, besides every `wake()`. */
  readonly pollIntervalMs: number;
  /** After this many failed attempts an event is DEAD_LETTER. */
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  /** Events claimed per round. */
  readonly batchSize?: number;
  /** A subscriber that has not settled after this long has failed the attempt. */
  readonly deliveryTimeoutMs?: number;
  /** Delivered events older than this are deleted (dead letters are kept). */
  readonly retainDeliveredMs?: number;
}

const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
const DEFAULT_RETAIN_DELIVERED_MS = 24 * 3600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

class DeliveryTimeout extends Error {
  override readonly name = 'DeliveryTimeout';
}

/** Runs `work`, failing it when it has not settled within `ms`. */
async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeliveryTimeout(`did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Delivers the transactional outbox (the seed's OutboxProcessorService). Invariants:
 * - every committed event reaches every subscriber that handles its type at least once,
 *   unless it ends DEAD_LETTER after `maxAttempts` failed attempts;
 * - a failed attempt is retried with exponential backoff (attempts, next_attempt_at and
 *   last_error record it); a failing or slow event never holds up the others — each event
 *   settles on its own, and a retry waits for its due time, not in line;
 * - several instances may drain one database: a claim skips rows another worker holds.
 * Woken by `wake()` after each commit and by a poll timer; `stop()` lets the round in
 * progress finish, then returns.
 */
export class OutboxProcessor {
  private readonly batchSize: number;
  private readonly deliveryTimeoutMs: number;
  private readonly retainDeliveredMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** Not started yet, or stopped: wake() does nothing. */
  private idle = true;
  /** stop() was called: the round in progress ends after its current batch. */
  private stopping = false;
  private nextPruneAt = 0;

  constructor(private readonly opts: OutboxProcessorOptions) {
    this.batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    this.retainDeliveredMs = opts.retainDeliveredMs ?? DEFAULT_RETAIN_DELIVERED_MS;
  }

  start(): void {
    if (!this.idle) return;
    this.idle = false;
    this.stopping = false;
    this.nextPruneAt = Date.now() + PRUNE_EVERY_MS;
    this.timer = setInterval(() => this.wake(), this.opts.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Asks for a delivery round soon; rounds never overlap, a wake during one adds one more. */
  wake(): void {
    if (this.idle) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Delivers everything due now (tests and shutdown use it); resolves when done. */
  async drain(): Promise<void> {
    await this.running;
    await this.deliverDue();
  }

  async stop(): Promise<void> {
    this.idle = true;
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  counts(): Promise<OutboxCounts> {
    return outboxCounts(this.opts.db);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.deliverDue();
        await this.pruneNowAndThen();
      } catch (err) {
        // The database is unreachable or closing: the next poll tries again.
        if (!this.stopping) this.opts.log.warn({ err }, 'outbox delivery round failed');
      }
    } while (this.again && !this.idle);
  }

  /** Claims and delivers rounds of due events until none is left. */
  private async deliverDue(): Promise<void> {
    // A claim outlives the slowest delivery, so a live worker never loses its events.
    const claimMs = this.deliveryTimeoutMs * 3;
    for (;;) {
      const events = await claimDueEvents(this.opts.db, this.batchSize, claimMs);
      if (events.length === 0) return;
      const outcomes = await Promise.all(events.map((event) => this.deliver(event)));
      const delivered = events.filter((_, i) => outcomes[i] === undefined).map((e) => e.id);
      await markDelivered(this.opts.db, delivered);
      for (const [i, event] of events.entries()) {
        const error = outcomes[i];
        if (error === undefined) continue;
        const status = await markFailed(this.opts.db, event, {
          error,
          maxAttempts: this.opts.maxAttempts,
          retryInMs: retryDelayMs(event.attempts, this.opts.backoff),
        });
        const log = {
          eventId: event.id,
          eventType: event.eventType,
          attempts: event.attempts,
          error,
        };
        if (status === 'DEAD_LETTER') this.opts.log.error(log, 'outbox event moved to DEAD_LETTER');
        else this.opts.log.warn(log, 'outbox delivery failed; will retry');
      }
      if (events.length < this.batchSize || this.stopping) return;
    }
  }

  /** Delivers one event to every subscriber that wants it; the failures, or undefined. */
  private async deliver(event: OutboxEvent): Promise<string | undefined> {
    const wanted = this.opts.subscribers.filter((s) => s.handles?.(event.eventType) ?? true);
    const results = await Promise.allSettled(
      wanted.map((s) =>
        withTimeout(
          Promise.resolve().then(() => s.deliver(event)),
          this.deliveryTimeoutMs,
        ),
      ),
    );
    const errors = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [
            `${wanted[i]?.name ?? '?'}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`,
          ]
        : [],
    );
    return errors.length === 0 ? undefined : errors.join('; ');
  }

  private async pruneNowAndThen(): Promise<void> {
    if (Date.now() < this.nextPruneAt) return;
    this.nextPruneAt = Date.now() + PRUNE_EVERY_MS;
    await pruneDelivered(this.opts.db, this.retainDeliveredMs);
  }
}
