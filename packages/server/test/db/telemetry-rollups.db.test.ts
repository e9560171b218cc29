import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HEALTH_BUCKET_MS, HEALTH_STRIP_BUCKETS, type DashboardMetrics } from '@sync-engine/shared';
import { readTelemetry } from '../../src/capture/telemetry-reader.ts';
import { RAW_WINDOW_MAX_REQUESTS } from '../../src/capture/telemetry-rollups.ts';
import type { DB } from '../../src/db/schema.ts';
import { describeEachDatabase, type TestDatabase } from '../support/test-database.ts';

const WINDOWS = { '24h': 24 * 3_600_000, '6h': 6 * 3_600_000, '150m': 150 * 60_000, '7d': 7 * 24 * 3_600_000 } as const;

/** Enough captures that the large-window paths (rollups, bins, client bounds) are the ones taken. */
async function seed(db: Kysely<DB>, count: number, nowMs: number): Promise<void> {
  await sql`select setseed(0.5)`.execute(db);
  await sql`
    insert into capture_requests (id, kind, user_id, client_id, correlation_id, method, route, started_at,
      duration_ms, http_status, outcome, mutation_count, conflict_count, failure_count, snapshot_count, request, response)
    select gen_random_uuid(), case when r1 < 0.5 then 'pull' when r1 < 0.9 then 'push' else 'full' end, 'u',
      case when r2 < 0.02 then null else 'c' || floor(300 * r2 * r2)::int end, 'x', 'POST', '/r',
      ${new Date(nowMs).toISOString()}::timestamptz - r3 * interval '26 hours',
      exp(ln(20) + sqrt(-2 * ln(1 - r4)) * cos(2 * pi() * r5)),
      case when r6 < 0.05 then 500 else 200 end, case when r6 < 0.05 then 'failed' else 'success' end,
      floor(r1 * 20)::int, case when r5 < 0.1 then 1 else 0 end, 0, 0, '{}', '{}'
    from (select random() r1, random() r2, random() r3, random() r4, random() r5, random() r6
          from generate_series(1, ${count})) as draws`.execute(db);
  // A retention-style delete and a moved row: the rollups follow both.
  await sql`delete from capture_requests where started_at < ${new Date(nowMs - 25.5 * 3_600_000).toISOString()}::timestamptz`.execute(db);
  await sql`update capture_requests set started_at = started_at - interval '10 minutes'
    where id in (select id from capture_requests order by id limit 50)`.execute(db);
}

/** The answer straight from the raw rows: what the rollups must reproduce. */
async function oracle(db: Kysely<DB>, nowMs: number, windowMs: number) {
  const from = new Date(nowMs - windowMs).toISOString();
  const to = new Date(nowMs).toISOString();
  const stripStart = new Date(nowMs - HEALTH_STRIP_BUCKETS * HEALTH_BUCKET_MS).toISOString();
  const totals = await sql<Record<string, string | number>>`
    select count(*) as requests, count(*) filter (where kind = 'push') as push, count(*) filter (where kind = 'pull') as pull,
      count(*) filter (where kind = 'full') as full_requests, coalesce(sum(mutation_count), 0) as mutations,
      count(*) filter (where conflict_count > 0) as conflicted, count(*) filter (where outcome = 'failed') as failed,
      coalesce(avg(duration_ms), 0) as avg_ms,
      percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms) as p
    from capture_requests where started_at >= ${from}::timestamptz and started_at <= ${to}::timestamptz`.execute(db);
  const strip = await sql<{ bucket: number; requests: string; failures: string; conflicts: string }>`
    select least(${HEALTH_STRIP_BUCKETS - 1}, floor(extract(epoch from (started_at - ${stripStart}::timestamptz)) * 1000 / ${HEALTH_BUCKET_MS}))::int as bucket,
      count(*) as requests, count(*) filter (where outcome = 'failed') as failures, count(*) filter (where conflict_count > 0) as conflicts
    from capture_requests where started_at >= ${stripStart}::timestamptz and started_at <= ${to}::timestamptz
    group by 1`.execute(db);
  const clients = await sql<{ client_id: string; requests: string; mutations: string }>`
    select client_id, count(*) as requests, sum(mutation_count) as mutations from capture_requests
    where started_at >= ${from}::timestamptz and started_at <= ${to}::timestamptz and client_id is not null
    group by client_id order by 2 desc, 3 desc, client_id limit 10`.execute(db);
  return { totals: totals.rows[0]!, strip: strip.rows, clients: clients.rows };
}

describeEachDatabase('telemetry from the rollups of capture_requests', ({ createTestDatabase }) => {
  let t: TestDatabase;
  const nowMs = Date.now();
  const count = Math.round(RAW_WINDOW_MAX_REQUESTS * 1.6);

  beforeAll(async () => {
    t = await createTestDatabase();
    await seed(t.db, count, nowMs);
  }, 120_000);
  afterAll(() => t.close());

  test.each(Object.entries(WINDOWS))('window %s: counts, rates, strip and top clients equal the raw rows; percentiles within a bin', async (window, windowMs) => {
    // A "now" off the 5-second grid, so buckets straddle the rollup slots.
    const now = new Date(nowMs + 1_234);
    const metrics: DashboardMetrics = await readTelemetry(t.db, { window, windowMs, now });
    const expected = await oracle(t.db, now.getTime(), windowMs);
    const e = expected.totals;
    expect(metrics.throughput).toEqual({
      requests: Number(e['requests']),
      pushRequests: Number(e['push']),
      pullRequests: Number(e['pull']),
      fullRequests: Number(e['full_requests']),
      mutations: Number(e['mutations']),
    });
    expect(metrics.latency.avgMs).toBeCloseTo(Number(e['avg_ms']), 6);
    const p = e['p'] as unknown as number[];
    const large = Number(e['requests']) > RAW_WINDOW_MAX_REQUESTS;
    for (const [got, want] of [
      [metrics.latency.p50Ms, p[0]!],
      [metrics.latency.p95Ms, p[1]!],
      [metrics.latency.p99Ms, p[2]!],
    ] as const) {
      if (large) expect(Math.abs(got - want) / want).toBeLessThan(0.05);
      else expect(got).toBeCloseTo(want, 9);
    }
    const stripCounts = new Map(expected.strip.map((b) => [b.bucket, b]));
    metrics.healthStrip.forEach((bucket, i) => {
      const want = stripCounts.get(i);
      expect({ i, requests: bucket.requests, failures: bucket.failures, conflicts: bucket.conflicts }).toEqual({
        i,
        requests: Number(want?.requests ?? 0),
        failures: Number(want?.failures ?? 0),
        conflicts: Number(want?.conflicts ?? 0),
      });
    });
    expect(metrics.topClients).toEqual(
      expected.clients.map((c) => ({ clientId: c.client_id, requests: Number(c.requests), mutations: Number(c.mutations) })),
    );
  });
});
