import { sql, type Kysely } from 'kysely';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config/env.ts';
import type { DB } from '../packages/server/src/db/schema.ts';
import { createTokenService } from '../packages/server/src/http/auth-tokens.ts';
import { openBenchDatabase, summarize } from './bench-database.ts';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnop';
/** The target: the dashboard's telemetry answers within this, at a million stored captures. */
const MAX_METRICS_MS = 200;
const WARM_UP_CALLS = 3;
const TIMED_CALLS = 20;
const SEED_CHUNK = 250_000;
const USERS = 5_000;

/** How a day of pushes spreads over models (top models read capture_model_stats). */
const MODEL_SHARES = [
  ['consumptions', 0.42],
  ['sessions', 0.16],
  ['journal_entries', 0.1],
  ['products', 0.08],
  ['goals', 0.07],
  ['purchases', 0.06],
  ['inventory_items', 0.05],
  ['devices', 0.04],
  ['ai_usage_records', 0.02],
] as const;

/**
 * Seeds `count` captured requests, evenly over the 24 h ending now, set-based. The mix:
 * 55 % pulls, 40 % pushes, 5 % full syncs; 5,000 users, the busiest far busier than the rest
 * (user = 5000·u²), each with 1–3 devices (about 10,000 clients); durations log-normal around
 * 20 ms; 2.5 % failed (500, 409, 429), 8 % of pushes partial with a conflict or a failure;
 * pushes carry 1–500 changes (mean about 9). Bodies are small, as after redaction of a
 * short push. The rollups of migration 0004 fill through their triggers, as in production.
 * capture_mutations stays empty: /metrics never reads it (top models come from
 * capture_model_stats, seeded here from the same counts).
 */
export async function seedCaptures(db: Kysely<DB>, count: number): Promise<void> {
  await sql`select setseed(0.42)`.execute(db);
  for (let first = 1; first <= count; first += SEED_CHUNK) {
    const last = Math.min(count, first + SEED_CHUNK - 1);
    await sql`
      insert into capture_requests (id, kind, user_id, client_id, correlation_id, sync_operation_id, replay_of,
        method, route, started_at, duration_ms, http_status, outcome, error_code, mutation_count, conflict_count,
        failure_count, snapshot_count, request, response)
      select gen_random_uuid(), kind, 'user-' || u, 'device-' || u || '-' || floor(r3 * (1 + u % 3))::int,
        'corr-' || g, case when kind <> 'pull' then 'op-' || g end, null,
        case when kind = 'pull' then 'GET' else 'POST' end,
        case kind when 'push' then '/api/v1/sync/push' when 'pull' then '/api/v1/sync/changes' else '/api/v1/sync/full' end,
        now() - (${count} - g) * (86400.0 / ${count}) * interval '1 second', duration_ms, status,
        case when status >= 400 then 'failed' when status = 207 then 'partial' else 'success' end,
        case status when 500 then 'INTERNAL' when 409 then 'SYNC_IN_PROGRESS' when 429 then 'RATE_LIMIT_EXCEEDED' end,
        case when kind = 'pull' or status >= 400 then 0 else changes end,
        case when status = 207 and r4 < 0.5 then 1 else 0 end,
        case when status = 207 and r4 >= 0.5 then 1 else 0 end,
        case when kind <> 'push' and status < 400 then floor(r5 * 100)::int else 0 end,
        jsonb_build_object('method', 'POST', 'url', '/api/v1/sync/push',
          'headers', '{"content-type": "application/json", "authorization": "[REDACTED]"}'::jsonb,
          'body', jsonb_build_object('deviceId', 'device-' || u, 'changes', '[]'::jsonb)),
        jsonb_build_object('status', status, 'headers', '{"content-type": "application/json"}'::jsonb,
          'body', '{"successful": [], "failed": [], "conflicts": []}'::jsonb)
      from (
        select g, r3, r4, r5, floor(${USERS} * r2 * r2)::int as u,
          case when r1 < 0.55 then 'pull' when r1 < 0.95 then 'push' else 'full' end as kind,
          least(30000, exp(ln(20) + 0.8 * sqrt(-2 * ln(1 - r6)) * cos(2 * pi() * r7))) as duration_ms,
          case when r4 < 0.01 then 500 when r4 < 0.02 then 409 when r4 < 0.025 then 429
               when r1 >= 0.55 and r5 < 0.08 then 207 else 200 end as status,
          least(500, 1 + floor(-ln(1 - r8) * 8))::int as changes
        from (
          select g, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7, random() r8
          from generate_series(${first}::int, ${last}::int) g
        ) as draws
      ) as requests`.execute(db);
  }
  const shares = sql.join(MODEL_SHARES.map(([model, share]) => sql`(${model}, ${share}::float8)`));
  await sql`
    insert into capture_model_stats (bucket_start, entity_type, mutations, conflicts, failures)
    select bucket, model, round(mutations * share), round(conflicts * share), round(failures * share)
    from (
      select date_bin('5 minutes', started_at, timestamptz '2000-01-01 00:00:00+00') as bucket,
             sum(mutation_count) as mutations, sum(conflict_count) as conflicts, sum(failure_count) as failures
      from capture_requests group by 1
    ) as buckets
    cross join (values ${shares}) as m(model, share)`.execute(db);
  // As autovacuum would have by now: visibility map (index-only scans) and statistics.
  await sql`vacuum analyze capture_requests, capture_model_stats, capture_request_slots, capture_latency_bins, capture_client_hours`.execute(db);
}

/**
 * `GET {prefix}/metrics?window=24h` through the real HTTP server (listening on a port,
 * fetched like the dashboard's browser does) with `captures` stored: median and p95 of
 * TIMED_CALLS calls after WARM_UP_CALLS. Also times the raw aggregate the endpoint ran before
 * the rollups of migration 0004 (one call: it is the "why").
 */
export async function telemetryMetrics(opts: { captures: number }): Promise<Record<string, unknown>[]> {
  await using database = await openBenchDatabase(8);
  const s0 = performance.now();
  await seedCaptures(database.db, opts.captures);
  const seedSeconds = (performance.now() - s0) / 1000;

  const tokens = createTokenService(SECRET);
  const config = loadConfig({ AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'silent' });
  const app = await buildApp({ config, database, tokens, cursorKey: SECRET });
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `${address}${config.dashboardPrefix}/metrics?window=24h`;
    const headers = { authorization: `Bearer ${await tokens.issue('bench-admin', { admin: true })}` };
    const call = async (): Promise<{ ms: number; requests: number }> => {
      const t0 = performance.now();
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { throughput?: { requests: number } };
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return { ms: performance.now() - t0, requests: body.throughput?.requests ?? 0 };
    };
    for (let i = 0; i < WARM_UP_CALLS; i++) await call();
    const samples: number[] = [];
    let inWindow = 0;
    for (let i = 0; i < TIMED_CALLS; i++) {
      const { ms, requests } = await call();
      samples.push(ms);
      inWindow = requests;
    }
    const s = summarize(samples);
    const r0 = performance.now();
    await rawAggregate(database.db);
    const rawMs = performance.now() - r0;
    return [
      {
        scenario: `dashboard GET /metrics (24h), ${opts.captures.toLocaleString('en')} captures stored`,
        seedSeconds: seedSeconds.toFixed(1),
        inWindow,
        samples: TIMED_CALLS,
        medianMs: s.median.toFixed(1),
        p95Ms: s.p95.toFixed(1),
        rawAggregateMs: rawMs.toFixed(0),
        target: `<${MAX_METRICS_MS} ms: ${s.median < MAX_METRICS_MS && s.p95 < MAX_METRICS_MS ? 'yes' : 'no'}`,
      },
    ];
  } finally {
    await app.close();
  }
}

/** The endpoint's three passes over the raw rows before migration 0004, for comparison. */
async function rawAggregate(db: Kysely<DB>): Promise<void> {
  const window = sql`started_at >= now() - interval '24 hours' and started_at <= now()`;
  await sql`select count(*), count(*) filter (where kind = 'push'), sum(mutation_count), avg(duration_ms),
      percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms)
    from capture_requests where ${window}`.execute(db);
  await sql`select floor(extract(epoch from (started_at - (now() - interval '24 hours'))) / 300)::int, count(*),
      count(*) filter (where outcome = 'failed'), count(*) filter (where conflict_count > 0)
    from capture_requests where ${window} group by 1`.execute(db);
  await sql`select client_id, count(*), sum(mutation_count) from capture_requests
    where ${window} and client_id is not null group by 1 order by 2 desc, 3 desc, 1 limit 10`.execute(db);
}
