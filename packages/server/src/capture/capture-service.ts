import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Redactor } from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import { syncMetrics } from '../metrics/sync-metrics.ts';
import { buildCaptureRows, type CaptureRows } from './capture-rows.ts';
import { pruneCaptures, writeCaptures } from './capture-store.ts';
import { captureWeight, type PendingCapture } from './pending-capture.ts';

export interface CaptureServiceOptions {
  readonly db: Kysely<DB>;
  readonly redactor: Redactor;
  readonly log: FastifyBaseLogger;
  /** false → `record` drops everything (CAPTURE_ENABLED=false); pruning still runs. */
  readonly enabled: boolean;
  readonly retentionHours: number;
  /** The queue is written at least this often. */
  readonly flushIntervalMs?: number;
  /** …and as soon as this much (requests + changes) is waiting. */
  readonly flushThreshold?: number;
  /** Weight written per transaction. */
  readonly batchWeight?: number;
  /** Above this much waiting, new captures are dropped (counted) rather than queued. */
  readonly maxQueueWeight?: number;
  readonly pruneIntervalMs?: number;
}

const WARN_EVERY_MS = 60_000;
/** The longest stretch the flusher builds rows before letting waiting requests run. */
const BUILD_SLICE_MS = 4;

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Cheap capture: the request path only queues references (`record` never throws, never
 * waits); a background flusher redacts, builds rows and writes them in batches, on an
 * interval or once enough is waiting, and once more on close. A write that fails drops
 * that batch (counted and logged) — capture never fails or slows a sync request.
 * Captures older than the retention are pruned periodically.
 */
export class CaptureService {
  private queue: PendingCapture[] = [];
  private queuedWeight = 0;
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private thresholdScheduled = false;
  private lastWarnAt = 0;
  private suppressedWarnings = 0;
  private stopped = false;
  private pruning: Promise<unknown> | null = null;
  private firstPrune: NodeJS.Timeout | undefined;

  private readonly flushIntervalMs: number;
  private readonly flushThreshold: number;
  private readonly batchWeight: number;
  private readonly maxQueueWeight: number;
  private readonly pruneIntervalMs: number;

  constructor(private readonly opts: CaptureServiceOptions) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.flushThreshold = opts.flushThreshold ?? 2000;
    this.batchWeight = opts.batchWeight ?? 2000;
    this.maxQueueWeight = opts.maxQueueWeight ?? 200_000;
    this.pruneIntervalMs = opts.pruneIntervalMs ?? 10 * 60_000;
  }

  get enabled(): boolean {
    return this.opts.enabled;
  }

  /** Captured requests waiting to be written. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Queues a capture; drops it when capture is off or the queue is full. Never throws. */
  record(capture: PendingCapture): void {
    if (!this.opts.enabled || this.stopped) return;
    const weight = captureWeight(capture);
    if (this.queuedWeight + weight > this.maxQueueWeight) {
      syncMetrics.captureDropped.inc({ reason: 'queue_full' });
      this.warn('capture queue full; dropping captures', undefined);
      return;
    }
    this.queue.push(capture);
    this.queuedWeight += weight;
    if (this.queuedWeight >= this.flushThreshold && !this.thresholdScheduled) {
      this.thresholdScheduled = true;
      setImmediate(() => {
        this.thresholdScheduled = false;
        void this.flush();
      });
    }
  }

  /**
   * Writes everything queued before the call; resolves when it is in the database (or was
   * dropped because the write failed). Never rejects.
   */
  flush(): Promise<void> {
    if (this.next !== null) return this.next;
    const previous = this.running ?? Promise.resolve();
    const run: Promise<void> = previous.then(async () => {
      this.next = null;
      this.running = run;
      try {
        await this.drain();
      } catch (err) {
        this.warn('flushing captures failed', err);
      } finally {
        if (this.running === run) this.running = null;
      }
    });
    this.next = run;
    return run;
  }

  /** Deletes captures older than the retention; returns how many. Never rejects. */
  prune(now: Date = new Date()): Promise<number> {
    const run = (async () => {
      try {
        return await pruneCaptures(this.opts.db, new Date(now.getTime() - this.opts.retentionHours * 3_600_000));
      } catch (err) {
        this.warn('pruning captures failed', err);
        return 0;
      }
    })();
    const tracked: Promise<number> = run.finally(() => {
      if (this.pruning === tracked) this.pruning = null;
    });
    this.pruning = tracked;
    return run;
  }

  /** Starts the flush and retention timers (they never keep the process alive). */
  start(): void {
    if (this.stopped || this.flushTimer !== undefined) return;
    if (this.opts.enabled) {
      this.flushTimer = setInterval(() => void this.flush(), this.flushIntervalMs);
      this.flushTimer.unref();
    }
    this.pruneTimer = setInterval(() => void this.prune(), this.pruneIntervalMs);
    this.pruneTimer.unref();
    // Also soon after start, so a server restarted more often than the interval still prunes.
    this.firstPrune = setTimeout(() => void this.prune(), Math.min(30_000, this.pruneIntervalMs));
    this.firstPrune.unref();
  }

  /** Stops the timers and writes what is still queued (the app's onClose). */
  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    clearTimeout(this.firstPrune);
    this.flushTimer = undefined;
    this.pruneTimer = undefined;
    await this.flush();
    await this.pruning;
    this.stopped = true;
  }

  private take(): PendingCapture[] {
    let weight = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || weight < this.batchWeight)) {
      weight += captureWeight(this.queue[n]!);
      n++;
    }
    const batch = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.queuedWeight = Math.max(0, this.queuedWeight - weight);
    return batch;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.take();
      const rows: CaptureRows[] = [];
      let sliceStart = performance.now();
      for (const capture of batch) {
        // Building rows is CPU work on the event loop the sync requests share: hand it back
        // every few milliseconds, so a flush never holds a push's answer for long.
        if (performance.now() - sliceStart >= BUILD_SLICE_MS) {
          await yieldToRequests();
          sliceStart = performance.now();
        }
        try {
          rows.push(buildCaptureRows(capture, this.opts.redactor));
        } catch (err) {
          syncMetrics.captureDropped.inc({ reason: 'build_failed' });
          this.warn('building a capture failed', err);
        }
      }
      try {
        await writeCaptures(this.opts.db, rows);
        syncMetrics.captureWritten.inc(rows.length);
      } catch (err) {
        syncMetrics.captureDropped.inc({ reason: 'write_failed' }, rows.length);
        this.warn('writing captures failed; batch dropped', err);
      }
    }
  }

  /** At most one warning a minute; the ones held back are counted in the next. */
  private warn(message: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) {
      this.suppressedWarnings++;
      return;
    }
    this.lastWarnAt = now;
    this.opts.log.warn({ err, suppressed: this.suppressedWarnings }, message);
    this.suppressedWarnings = 0;
  }
}
