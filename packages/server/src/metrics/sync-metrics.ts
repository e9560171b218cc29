import { Counter, Histogram, Registry } from 'prom-client';
import type { LeaseObserver } from '../coordination/sync-lease-service.ts';

/*
 * The engine's Prometheus metrics. Counters are process-wide (like prom-client's default
 * registry), so any module can increment them without being handed an object: e.g. the lease
 * code calls `syncMetrics.leaseGrants.inc({ kind })`. Gauges that read one app's database
 * live in that app's registry (see app-metrics.ts); GET /metrics serves both.
 */

/** The process-wide registry of the counters below. */
export const metricsRegistry = new Registry();

const registers = [metricsRegistry];

export const syncMetrics = {
  /** Every HTTP answer, by route pattern (never the raw URL) and status. */
  httpRequests: new Counter({
    name: 'sync_engine_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  }),
  httpRequestDuration: new Histogram({
    name: 'sync_engine_http_request_duration_seconds',
    help: 'Time from receiving a request to answering it, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  }),
  /** Changes of pushes and full syncs, by outcome: APPLIED, DUPLICATE, SKIPPED, FAILED, CONFLICT. */
  pushChanges: new Counter({
    name: 'sync_engine_push_changes_total',
    help: 'Pushed changes processed, by outcome (APPLIED, DUPLICATE, SKIPPED, FAILED, CONFLICT)',
    labelNames: ['outcome'] as const,
    registers,
  }),
  conflicts: new Counter({
    name: 'sync_engine_conflicts_total',
    help: 'Conflicts detected by pushes, by entity type, deciding strategy and outcome',
    labelNames: ['entity_type', 'strategy', 'outcome'] as const,
    registers,
  }),
  leaseGrants: new Counter({
    name: 'sync_engine_lease_grants_total',
    help: 'Admission-control leases granted, by kind',
    labelNames: ['kind'] as const,
    registers,
  }),
  leaseRejections: new Counter({
    name: 'sync_engine_lease_rejections_total',
    help: 'Lease issues and uses refused, by kind and reason',
    labelNames: ['kind', 'reason'] as const,
    registers,
  }),
  captureWritten: new Counter({
    name: 'sync_engine_capture_written_total',
    help: 'Captured sync requests written for the dashboard',
    registers,
  }),
  captureDropped: new Counter({
    name: 'sync_engine_capture_dropped_total',
    help: 'Captured sync requests dropped (queue full, write failed)',
    labelNames: ['reason'] as const,
    registers,
  }),
};

/** Pass to `new SyncLeaseService(store, limits, leaseMetricsObserver)` to count grants and refusals. */
export const leaseMetricsObserver: LeaseObserver = {
  granted: (kind) => syncMetrics.leaseGrants.inc({ kind }),
  rejected: (kind, reason) => syncMetrics.leaseRejections.inc({ kind, reason }),
};
