import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import {
  DashboardMetricsSchema,
  HEALTH_BUCKET_MS,
  type CapturedRequestList,
  type DashboardMetrics,
} from '@sync-engine/shared';
import type { DB } from '../../src/db/schema.ts';
import { dashboardOk } from '../support/capture-fixtures.ts';
import { create, pushOk, serverIdOf, update, useSharedServer } from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

async function metricsOf(server: TestServer, window = '24h'): Promise<DashboardMetrics> {
  await server.app.captureFlush();
  return DashboardMetricsSchema.parse(await dashboardOk(server, `/metrics?window=${window}`));
}

/** percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(sorted: readonly number[], p: number): number {
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** Captured requests written straight to the table, at chosen times and durations. */
async function insertCaptures(
  db: Kysely<DB>,
  rows: { agoMs: number; durationMs: number; outcome?: 'success' | 'partial' | 'failed'; conflicts?: number; clientId?: string }[],
): Promise<void> {
  const now = Date.now();
  await db
    .insertInto('capture_requests')
    .values(
      rows.map((r) => ({
        id: randomUUID(),
        kind: 'push' as const,
        user_id: 'synthetic',
        client_id: r.clientId ?? 'synthetic-device',
        correlation_id: randomUUID(),
        sync_operation_id: null,
        replay_of: null,
        method: 'POST',
        route: '/api/v1/sync/push',
        started_at: new Date(now - r.agoMs).toISOString(),
        duration_ms: r.durationMs,
        http_status: r.outcome === 'failed' ? 500 : r.outcome === 'partial' ? 207 : 200,
        outcome: r.outcome ?? 'success',
        error_code: null,
        mutation_count: 1,
        conflict_count: r.conflicts ?? 0,
        failure_count: 0,
        snapshot_count: 0,
        request: '{}',
        response: '{}',
      })),
    )
    .execute();
}

describeEachDatabase('dashboard telemetry', (target) => {
  const server = useSharedServer(target);

  it('counts real traffic: throughput, latency, rates, health strip, top models and clients', async () => {
    const user = 'telemetry-user';
    const first = await pushOk(server(), user, 'dev-a', [
      create('products', 'p1', { name: 'One' }),
      create('products', 'p2', { name: 'Two' }),
      create('goals', 'g1', { name: 'Run', currentValue: 1 }),
    ]);
    const goalId = serverIdOf(first, 'goals', 'g1');
    await pushOk(server(), user, 'dev-b', [update('goals', goalId, 1, { currentValue: 2 })]);
    const partial = await pushOk(server(), user, 'dev-a', [
      update('goals', goalId, 1, { name: 'Walk' }),
      create('purchases', 'pu1', { quantityPurchased: 1, productId: 'missing' }),
    ]);
    expect([partial.conflicts.length, partial.failed.length]).toEqual([1, 1]);
    expect((await server().request('GET', '/api/v1/sync/changes?deviceId=dev-b', { user })).status).toBe(200);
    expect((await server().request('POST', '/api/v1/sync/push', { user, body: { deviceId: 'dev-b' } })).status).toBe(400);
    const full = await server().request('POST', '/api/v1/sync/full', {
      user,
      body: { syncOperationId: randomUUID(), deviceId: 'dev-c', changes: [create('products', 'p3', { name: 'Three' })] },
    });
    expect(full.status).toBe(200);

    const metrics = await metricsOf(server());
    const captured = await dashboardOk<CapturedRequestList>(server(), '/api/requests?perPage=100');
    expect(captured.total).toBe(6);
    const durations = captured.data.map((r) => r.durationMs).sort((a, b) => a - b);

    expect(metrics.window).toBe('24h');
    expect(Math.abs(Date.parse(metrics.generatedAt) - Date.now())).toBeLessThan(10_000);
    expect(metrics.throughput).toEqual({ requests: 6, pushRequests: 4, pullRequests: 1, fullRequests: 1, mutations: 7 });
    expect(metrics.latency.avgMs).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 6, 6);
    expect(metrics.latency.p50Ms).toBeCloseTo(percentileCont(durations, 0.5), 6);
    expect(metrics.latency.p95Ms).toBeCloseTo(percentileCont(durations, 0.95), 6);
    expect(metrics.latency.p99Ms).toBeCloseTo(percentileCont(durations, 0.99), 6);
    // One request of six had a conflict; one (the 400) failed.
    expect(metrics.conflictRate).toBe(16.67);
    expect(metrics.failureRate).toBe(16.67);
    expect(metrics.topModels).toEqual([
      { model: 'goals', mutations: 3 },
      { model: 'products', mutations: 3 },
      { model: 'purchases', mutations: 1 },
    ]);
    expect(metrics.topClients).toEqual([
      { clientId: 'dev-b', requests: 3, mutations: 1 },
      { clientId: 'dev-a', requests: 2, mutations: 5 },
      { clientId: 'dev-c', requests: 1, mutations: 1 },
    ]);

    // 288 contiguous five-minute buckets ending now; this traffic is in the last one.
    const strip = metrics.healthStrip;
    expect(strip).toHaveLength(288);
    expect(strip.at(-1)!.end).toBe(metrics.generatedAt);
    expect(Date.parse(strip[0]!.start)).toBe(Date.parse(metrics.generatedAt) - 24 * 3_600_000);
    for (let i = 0; i < strip.length; i++) {
      expect(Date.parse(strip[i]!.end) - Date.parse(strip[i]!.start)).toBe(HEALTH_BUCKET_MS);
      if (i > 0) expect(strip[i]!.start).toBe(strip[i - 1]!.end);
    }
    expect(strip.at(-1)).toMatchObject({ requests: 6, failures: 1, conflicts: 1, status: 'degraded' });
    expect(strip.slice(0, -1).every((b) => b.status === 'idle' && b.requests === 0)).toBe(true);
  });
});

describeEachDatabase('dashboard telemetry over time windows', (target) => {
  it('windows, SQL percentiles and the bucket each request falls in', async () => {
    await using server = await startTestServer({ target });
    const db = server.database.db;
    // 100 requests three hours ago taking 1..100 ms; two outside 24 h; a failing burst 2 h ago.
    await insertCaptures(
      db,
      Array.from({ length: 100 }, (_, i) => ({ agoMs: 3 * 3_600_000 + 150_000, durationMs: i + 1, conflicts: i < 10 ? 1 : 0 })),
    );
    await insertCaptures(db, [
      { agoMs: 30 * 3_600_000, durationMs: 5000, outcome: 'failed' },
      { agoMs: 25 * 3_600_000, durationMs: 5000, outcome: 'failed' },
    ]);
    await insertCaptures(db, [
      { agoMs: 2 * 3_600_000 + 150_000, durationMs: 10, outcome: 'failed', clientId: 'flaky' },
      { agoMs: 2 * 3_600_000 + 150_000, durationMs: 10, outcome: 'success', clientId: 'flaky' },
    ]);

    const sixHours = await metricsOf(server, '6h');
    expect(sixHours.throughput.requests).toBe(102);
    expect(sixHours.latency.avgMs).toBeCloseTo((5050 + 20) / 102, 6);
    expect(sixHours.failureRate).toBe(0.98);
    expect(sixHours.conflictRate).toBe(9.8);

    expect((await metricsOf(server, '200m')).throughput.requests).toBe(102);
    const lastTwoAndAHalfHours = await metricsOf(server, '150m');
    expect(lastTwoAndAHalfHours.throughput.requests).toBe(2);
    expect(lastTwoAndAHalfHours.topClients).toEqual([{ clientId: 'flaky', requests: 2, mutations: 2 }]);
    const quiet = await metricsOf(server, '90m');
    expect(quiet.throughput).toEqual({ requests: 0, pushRequests: 0, pullRequests: 0, fullRequests: 0, mutations: 0 });
    expect(quiet.latency).toEqual({ avgMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 });
    expect([quiet.conflictRate, quiet.failureRate]).toEqual([0, 0]);

    const week = await metricsOf(server, '7d');
    expect(week.throughput.requests).toBe(104);
    // The strip stays 24 h whatever the window.
    expect(week.healthStrip).toHaveLength(288);

    // percentile_cont over the 102 requests of the last 24 h (1..100 ms and two of 10 ms).
    const day = await metricsOf(server, '24h');
    const sorted = [...Array.from({ length: 100 }, (_, i) => i + 1), 10, 10].sort((a, b) => a - b);
    expect(day.latency.p50Ms).toBeCloseTo(percentileCont(sorted, 0.5), 9);
    expect(day.latency.p95Ms).toBeCloseTo(percentileCont(sorted, 0.95), 9);
    expect(day.latency.p99Ms).toBeCloseTo(percentileCont(sorted, 0.99), 9);

    // 3 h + 150 s ago is the middle of bucket 288 - 36 - 1; 2 h + 150 s ago of bucket 288 - 24 - 1.
    const strip = day.healthStrip;
    const busy = strip.flatMap((b, i) => (b.requests > 0 ? [[i, b.requests, b.failures, b.conflicts, b.status]] : []));
    expect(busy).toEqual([
      [251, 100, 0, 10, 'ok'],
      [263, 2, 1, 0, 'failing'],
    ]);
  });
});
