import { Gauge, Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { outboxCounts } from '../outbox/outbox-store.ts';

export interface AppMetricsDeps {
  readonly db: Kysely<DB>;
  /** Captured requests waiting to be written. */
  readonly captureQueueDepth: () => number;
}

/**
 * Gauges read from one app's own state at scrape time (its database, its capture queue), in
 * a registry of their own so several apps in one process (tests) do not overwrite each other.
 */
export function createAppMetrics(deps: AppMetricsDeps): Registry {
  const registry = new Registry();
  let counts: Promise<{ backlog: number; deadLetters: number } | undefined> | undefined;
  // Both outbox gauges come from one query per scrape.
  const readCounts = () => {
    counts ??= outboxCounts(deps.db)
      .catch(() => undefined)
      .finally(() => setImmediate(() => (counts = undefined)));
    return counts;
  };
  new Gauge({
    name: 'sync_engine_outbox_backlog',
    help: 'Outbox events still to deliver',
    registers: [registry],
    async collect() {
      const c = await readCounts();
      if (c !== undefined) this.set(c.backlog);
    },
  });
  new Gauge({
    name: 'sync_engine_outbox_dead_letters',
    help: 'Outbox events that failed every delivery attempt',
    registers: [registry],
    async collect() {
      const c = await readCounts();
      if (c !== undefined) this.set(c.deadLetters);
    },
  });
  new Gauge({
    name: 'sync_engine_capture_queue_depth',
    help: 'Captured sync requests waiting to be written',
    registers: [registry],
    collect() {
      this.set(deps.captureQueueDepth());
    },
  });
  return registry;
}
