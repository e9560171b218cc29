import { sql, type Kysely } from 'kysely';
import type { MetricsWindow } from '@sync-engine/dashboard';
import {
  HEALTH_BUCKET_MS,
  HEALTH_STRIP_BUCKETS,
  healthBucketStatus,
  type DashboardMetrics,
  type EntityType,
} from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import { MODEL_STATS_BUCKET_MS } from './capture-rows.ts';
import {
  CLIENT_DAY_MS,
  CLIENT_HOUR_MS,
  LATENCY_SLOT_MS,
  RAW_WINDOW_MAX_REQUESTS,
  REQUEST_SLOT_MS,
  percentileFromBins,
  slotCeil,
  slotFloor,
} from './telemetry-rollups.ts';

/** Rows of the top-models and top-clients lists. */
const TOP_N = 10;
/** Clients counted exactly at first for the top ten; four times more each time that does not settle it. */
const FIRST_CLIENT_CANDIDATES = 40;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const iso = (ms: number): string => new Date(ms).toISOString();
/** A timestamp one microsecond after `ms`: windows include their end, raw ranges are half-open. */
const justAfter = (ms: number): string => `${iso(ms).slice(0, -1)}001Z`;
/** A percentage of `part` in `whole`, two decimals; 0 when `whole` is 0. */
const percent = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 100);

/**
 * The whole slots of `step` ms inside [fromMs, toMs], as [first slot start, end of the last):
 * the rollups answer for them, the raw rows for the rest (the window's two edges). Empty
 * (both equal to the window's end) when no whole slot fits.
 */
function wholeSlots(fromMs: number, toMs: number, step: number): { start: number; end: number } {
  const start = slotCeil(fromMs, step);
  const end = slotFloor(toMs, step);
  return start < end ? { start, end } : { start: toMs, end: toMs };
}

/**
 * Runs `read` with PostgreSQL's JIT off. The planner cannot estimate the raw edge ranges (their
 * bounds are computed per slot), guesses millions of rows, and a plan that costly gets JIT
 * compiled: about 400 ms of compiling for a query that runs in 10.
 */
function withoutJit<T>(db: Kysely<DB>, read: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local jit = off`.execute(trx);
    return read(trx);
  });
}

interface Totals {
  requests: number;
  push: number;
  pull: number;
  full: number;
  mutations: number;
  conflicted: number;
  failed: number;
  durationSum: number;
}

/**
 * The dashboard's telemetry over the rollups of migration 0004, exact: whole slots come from
 * the rollups, the few seconds (or minutes, or at most half an hour for top clients) at a
 * window's edges from the raw rows through the started_at index. The five reads run side by
 * side on the pool. Percentiles are exact up to EXACT_PERCENTILE_MAX_REQUESTS requests, and
 * within one 5 % log-scale bin above.
 */
export async function readTelemetry(db: Kysely<DB>, { window, windowMs, now }: MetricsWindow): Promise<DashboardMetrics> {
  const toMs = now.getTime();
  const fromMs = toMs - windowMs;
  const strip = withoutJit(db, (trx) => readHealthStrip(trx, toMs));
  // The strip spans 24 h: for that window (the default) its buckets add up to the totals.
  const totalsRead =
    windowMs === HEALTH_STRIP_BUCKETS * HEALTH_BUCKET_MS
      ? strip.then(sumOf)
      : withoutJit(db, (trx) => readTotals(trx, fromMs, toMs));
  // The window's size decides how percentiles and top clients are read.
  const more = totalsRead.then((t) =>
    Promise.all([
      withoutJit(db, (trx) => readPercentiles(trx, fromMs, toMs, t.requests)),
      withoutJit(db, (trx) => readTopClients(trx, fromMs, toMs, t.requests)),
    ]),
  );
  const [buckets, totals, [percentiles, topClients], topModels] = await Promise.all([
    strip,
    totalsRead,
    more,
    withoutJit(db, (trx) => readTopModels(trx, fromMs, toMs)),
  ]);
  const { requests } = totals;
  return {
    generatedAt: iso(toMs),
    window,
    throughput: {
      requests,
      pushRequests: totals.push,
      pullRequests: totals.pull,
      fullRequests: totals.full,
      mutations: totals.mutations,
    },
    latency: {
      avgMs: requests === 0 ? 0 : totals.durationSum / requests,
      p50Ms: percentiles[0],
      p95Ms: percentiles[1],
      p99Ms: percentiles[2],
    },
    conflictRate: percent(totals.conflicted, requests),
    failureRate: percent(totals.failed, requests),
    healthStrip: stripOf(buckets, toMs),
    topModels,
    topClients,
  };
}

async function readTotals(db: Kysely<DB>, fromMs: number, toMs: number): Promise<Totals> {
  const whole = wholeSlots(fromMs, toMs, REQUEST_SLOT_MS);
  const { rows } = await sql<Record<keyof Totals, string | number | null>>`
    with parts as (
      select sum(requests) as requests, sum(push_requests) as push, sum(pull_requests) as pull,
             sum(full_requests) as full_requests, sum(mutations) as mutations, sum(conflicted) as conflicted,
             sum(failed) as failed, sum(duration_ms_sum) as duration_sum
      from capture_request_slots
      where slot_start >= ${iso(whole.start)}::timestamptz and slot_start < ${iso(whole.end)}::timestamptz
      union all
      select count(*), count(*) filter (where kind = 'push'), count(*) filter (where kind = 'pull'),
             count(*) filter (where kind = 'full'), sum(mutation_count), count(*) filter (where conflict_count > 0),
             count(*) filter (where outcome = 'failed'), sum(duration_ms)
      from capture_requests
      where (started_at >= ${iso(fromMs)}::timestamptz and started_at < ${iso(whole.start)}::timestamptz)
         or (started_at >= ${iso(whole.end)}::timestamptz and started_at < ${justAfter(toMs)}::timestamptz)
    )
    select sum(requests) as requests, sum(push) as push, sum(pull) as pull, sum(full_requests) as "full",
           sum(mutations) as mutations, sum(conflicted) as conflicted, sum(failed) as failed,
           sum(duration_sum) as "durationSum"
    from parts`.execute(db);
  const t = rows[0];
  return {
    requests: num(t?.requests),
    push: num(t?.push),
    pull: num(t?.pull),
    full: num(t?.full),
    mutations: num(t?.mutations),
    conflicted: num(t?.conflicted),
    failed: num(t?.failed),
    durationSum: num(t?.durationSum),
  };
}

const PERCENTILES = [0.5, 0.95, 0.99] as const;

async function readPercentiles(db: Kysely<DB>, fromMs: number, toMs: number, requests: number): Promise<[number, number, number]> {
  if (requests === 0) return [0, 0, 0];
  if (requests <= RAW_WINDOW_MAX_REQUESTS) {
    const { rows } = await sql<{ p: number[] | null }>`
      select percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms) as p
      from capture_requests
      where started_at >= ${iso(fromMs)}::timestamptz and started_at < ${justAfter(toMs)}::timestamptz`.execute(db);
    const p = rows[0]?.p ?? [];
    return [num(p[0]), num(p[1]), num(p[2])];
  }
  const whole = wholeSlots(fromMs, toMs, LATENCY_SLOT_MS);
  const { rows } = await sql<{ start_ms: number; end_ms: number; requests: string }>`
    select capture_latency_bin_start(bin) as start_ms, capture_latency_bin_start(bin + 1) as end_ms,
           sum(requests) as requests from (
      select bin, requests from capture_latency_bins
      where slot_start >= ${iso(whole.start)}::timestamptz and slot_start < ${iso(whole.end)}::timestamptz
      union all
      select capture_latency_bin(duration_ms), 1 from capture_requests
      where (started_at >= ${iso(fromMs)}::timestamptz and started_at < ${iso(whole.start)}::timestamptz)
         or (started_at >= ${iso(whole.end)}::timestamptz and started_at < ${justAfter(toMs)}::timestamptz)
    ) as binned
    group by bin`.execute(db);
  const bins = rows.map((r) => ({ startMs: num(r.start_ms), endMs: num(r.end_ms), requests: num(r.requests) }));
  return [percentileFromBins(bins, PERCENTILES[0]), percentileFromBins(bins, PERCENTILES[1]), percentileFromBins(bins, PERCENTILES[2])];
}

/** Counts of one strip bucket; summed over the strip they are the 24 h window's totals. */
type BucketCounts = Totals;

const emptyCounts = (): BucketCounts => ({
  requests: 0,
  push: 0,
  pull: 0,
  full: 0,
  mutations: 0,
  conflicted: 0,
  failed: 0,
  durationSum: 0,
});

const COUNTERS = sql`sum(requests) as requests, sum(push_requests) as push, sum(pull_requests) as pull,
  sum(full_requests) as full_requests, sum(mutations) as mutations, sum(conflicted) as conflicted,
  sum(failed) as failed, sum(duration_ms_sum) as duration_sum`;

/** The same counters over raw rows, each counted `sign` times. */
const rawCounters = (sign: 1 | -1) => sql`${sign} * count(*), ${sign} * count(*) filter (where r.kind = 'push'),
  ${sign} * count(*) filter (where r.kind = 'pull'), ${sign} * count(*) filter (where r.kind = 'full'),
  ${sign} * coalesce(sum(r.mutation_count), 0), ${sign} * count(*) filter (where r.conflict_count > 0),
  ${sign} * count(*) filter (where r.outcome = 'failed'), ${sign} * coalesce(sum(r.duration_ms), 0)`;

/**
 * The 288 five-minute buckets ending at `toMs`, with every counter (so the 24 h window's
 * totals are their sum). Buckets follow the clock to the millisecond, so each boundary falls
 * inside a 5-second slot: that slot is given whole to the bucket on one side, and its raw
 * rows on the other side of the boundary — the shorter part, at most 2.5 s — are moved
 * across. The slot holding the end loses its rows after the end (normally none).
 */
async function readHealthStrip(db: Kysely<DB>, toMs: number): Promise<BucketCounts[]> {
  const stripStartMs = toMs - HEALTH_STRIP_BUCKETS * HEALTH_BUCKET_MS;
  const base = slotFloor(stripStartMs, REQUEST_SLOT_MS);
  const offset = stripStartMs - base; // where each boundary falls in its slot
  const straddles = offset !== 0;
  // Prefix form: a straddling slot goes to the later bucket and its rows before the boundary
  // move back; suffix form: to the earlier one, and its rows from the boundary on move forward.
  const prefixForm = offset <= REQUEST_SLOT_MS / 2;
  const lastSlot = slotFloor(toMs, REQUEST_SLOT_MS);
  const bucketS = HEALTH_BUCKET_MS / 1000;
  const startIso = iso(stripStartMs);
  const bucketOf = (column: string) =>
    sql`floor(extract(epoch from (${sql.ref(column)} - ${startIso}::timestamptz)) / ${bucketS})::int`;
  // Straddling slots start at base + k · 5 min (k = 0 … 288); their bucket is k or k - 1.
  const slotBucket = sql`case
    when ${straddles}::boolean and mod(extract(epoch from slot_start)::bigint - ${base / 1000}::bigint, ${bucketS}::bigint) = 0
    then ((extract(epoch from slot_start)::bigint - ${base / 1000}::bigint) / ${bucketS}::bigint)::int - ${prefixForm ? 0 : 1}::int
    else ${bucketOf('slot_start')} end`;
  const boundary = sql`${startIso}::timestamptz + k * ${bucketS}::int * interval '1 second'`;
  const slotStart = sql`${iso(base)}::timestamptz + k * ${bucketS}::int * interval '1 second'`;
  const moved = prefixForm
    ? sql`r.started_at >= ${slotStart} and r.started_at < ${boundary}`
    : sql`r.started_at >= ${boundary} and r.started_at < ${slotStart} + interval '5 seconds'`;
  // Suffix form: the end's slot keeps its rows up to the end in the last bucket, nothing moves.
  const lastK = prefixForm ? HEALTH_STRIP_BUCKETS : HEALTH_STRIP_BUCKETS - 1;
  const { rows } = await sql<{ bucket: number } & Record<'requests' | 'push' | 'pull' | 'full_requests' | 'mutations' | 'conflicted' | 'failed' | 'duration_sum', string | number | null>>`
    select ${slotBucket} as bucket, ${COUNTERS}
    from capture_request_slots
    where slot_start >= ${iso(base)}::timestamptz and slot_start <= ${iso(lastSlot)}::timestamptz
    group by 1
    union all
    select k - ${prefixForm ? 1 : 0}::int, ${rawCounters(1)}
    from generate_series(0, ${straddles ? lastK : -1}::int) as k
    join capture_requests r on ${moved}
    group by 1
    union all
    select k - ${prefixForm ? 0 : 1}::int, ${rawCounters(-1)}
    from generate_series(0, ${straddles ? lastK : -1}::int) as k
    join capture_requests r on ${moved}
    group by 1
    union all
    select ${bucketOf('started_at')}, ${rawCounters(-1)}
    from capture_requests r
    where r.started_at >= ${justAfter(toMs)}::timestamptz and r.started_at < ${iso(lastSlot + REQUEST_SLOT_MS)}::timestamptz
    group by 1`.execute(db);

  const buckets = Array.from({ length: HEALTH_STRIP_BUCKETS }, emptyCounts);
  for (const row of rows) {
    const index = num(row.bucket);
    if (index < 0) continue; // before the strip
    // The end's slot: its rows up to the end belong to the last bucket.
    const b = buckets[Math.min(HEALTH_STRIP_BUCKETS - 1, index)]!;
    b.requests += num(row.requests);
    b.push += num(row.push);
    b.pull += num(row.pull);
    b.full += num(row.full_requests);
    b.mutations += num(row.mutations);
    b.conflicted += num(row.conflicted);
    b.failed += num(row.failed);
    b.durationSum += num(row.duration_sum);
  }
  return buckets;
}

function stripOf(buckets: readonly BucketCounts[], toMs: number): DashboardMetrics['healthStrip'] {
  const stripStartMs = toMs - HEALTH_STRIP_BUCKETS * HEALTH_BUCKET_MS;
  return buckets.map((b, i) => {
    const counts = { requests: b.requests, failures: b.failed, conflicts: b.conflicted };
    return {
      start: iso(stripStartMs + i * HEALTH_BUCKET_MS),
      end: iso(stripStartMs + (i + 1) * HEALTH_BUCKET_MS),
      ...counts,
      status: healthBucketStatus(counts),
    };
  });
}

function sumOf(buckets: readonly BucketCounts[]): Totals {
  const sum = emptyCounts();
  for (const b of buckets) {
    sum.requests += b.requests;
    sum.push += b.push;
    sum.pull += b.pull;
    sum.full += b.full;
    sum.mutations += b.mutations;
    sum.conflicted += b.conflicted;
    sum.failed += b.failed;
    sum.durationSum += b.durationSum;
  }
  return sum;
}

async function readTopModels(db: Kysely<DB>, fromMs: number, toMs: number): Promise<DashboardMetrics['topModels']> {
  // Model buckets are five minutes wide: the one the window starts in counts whole.
  const modelsFrom = slotFloor(fromMs, MODEL_STATS_BUCKET_MS);
  const { rows } = await sql<{ entity_type: EntityType; mutations: string }>`
    select entity_type, sum(mutations) as mutations
    from capture_model_stats
    where bucket_start >= ${iso(modelsFrom)}::timestamptz and bucket_start <= ${iso(toMs)}::timestamptz
    group by entity_type
    order by 2 desc, entity_type
    limit ${TOP_N}`.execute(db);
  return rows.map((r) => ({ model: r.entity_type, mutations: num(r.mutations) }));
}

type TopClients = DashboardMetrics['topClients'];

const toTopClients = (rows: readonly { client_id: string; requests: string; mutations: string | null }[]): TopClients =>
  rows.map((r) => ({ clientId: r.client_id, requests: num(r.requests), mutations: num(r.mutations) }));

/**
 * Top clients by requests (then mutations, then id). A small window is grouped from its raw
 * rows. A large one would mean summing every client's hours; instead each client's requests
 * in the days the window touches bound its count from above, the clients with the highest
 * bounds are counted exactly, and once the tenth exact count beats the highest bound left
 * out, no other client can place.
 */
async function readTopClients(db: Kysely<DB>, fromMs: number, toMs: number, requests: number): Promise<TopClients> {
  if (requests <= RAW_WINDOW_MAX_REQUESTS) {
    const { rows } = await sql<{ client_id: string; requests: string; mutations: string | null }>`
      select client_id, count(*) as requests, sum(mutation_count) as mutations
      from capture_requests
      where started_at >= ${iso(fromMs)}::timestamptz and started_at < ${justAfter(toMs)}::timestamptz
        and client_id is not null
      group by client_id
      order by 2 desc, 3 desc, client_id
      limit ${TOP_N}`.execute(db);
    return toTopClients(rows);
  }
  for (let candidates = FIRST_CLIENT_CANDIDATES; ; candidates *= 4) {
    const { rows: bounds } = await sql<{ client_id: string; requests: string }>`
      select client_id, sum(requests) as requests
      from capture_client_days
      where day_start >= ${iso(slotFloor(fromMs, CLIENT_DAY_MS))}::timestamptz
        and day_start <= ${iso(slotFloor(toMs, CLIENT_DAY_MS))}::timestamptz
      group by client_id
      order by 2 desc, client_id
      limit ${candidates + 1}`.execute(db);
    const highestLeftOut = bounds.length > candidates ? num(bounds[candidates]!.requests) : 0;
    const top = await countClients(db, fromMs, toMs, bounds.slice(0, candidates).map((b) => b.client_id));
    if (highestLeftOut === 0 || (top.length === TOP_N && top[TOP_N - 1]!.requests > highestLeftOut)) return top;
  }
}

/**
 * The exact top ten among `clients`: their hours wholly inside the window from
 * capture_client_hours, plus the edges. The hour the window ends in is taken whole, less any
 * rows after the end (normally none); the hour it starts in either adds its rows inside the
 * window or is taken whole less its rows before — whichever reads fewer raw rows.
 */
async function countClients(db: Kysely<DB>, fromMs: number, toMs: number, clients: readonly string[]): Promise<TopClients> {
  if (clients.length === 0) return [];
  const startHour = slotFloor(fromMs, CLIENT_HOUR_MS);
  const endHour = slotFloor(toMs, CLIENT_HOUR_MS);
  const end = justAfter(toMs);
  const none: [string, string] = [end, end];
  // Hours [rollupFrom, endHour] from the rollup; raw rows added in `add`, taken away in `less` and `afterEnd`.
  let rollupFrom = startHour;
  let add = none;
  let less = none;
  let afterEnd = none;
  if (startHour === endHour) {
    rollupFrom = endHour + CLIENT_HOUR_MS; // none: the window is inside one hour
    add = [iso(fromMs), end];
  } else {
    afterEnd = [end, iso(endHour + CLIENT_HOUR_MS)];
    const nextHour = startHour + CLIENT_HOUR_MS;
    if (fromMs !== startHour && nextHour - fromMs <= fromMs - startHour) {
      rollupFrom = nextHour;
      add = [iso(fromMs), iso(nextHour)];
    } else if (fromMs !== startHour) {
      less = [iso(startHour), iso(fromMs)];
    }
  }
  const ids = [...clients];
  const { rows } = await sql<{ client_id: string; requests: string; mutations: string }>`
    select client_id, sum(requests) as requests, sum(mutations) as mutations from (
      select client_id, requests, mutations from capture_client_hours
      where client_id = any(${ids}::text[])
        and hour_start >= ${iso(rollupFrom)}::timestamptz and hour_start <= ${iso(endHour)}::timestamptz
      union all
      select client_id, count(*), sum(mutation_count) from capture_requests
      where client_id = any(${ids}::text[]) and started_at >= ${add[0]}::timestamptz and started_at < ${add[1]}::timestamptz
      group by client_id
      union all
      select client_id, -count(*), -sum(mutation_count) from capture_requests
      where client_id = any(${ids}::text[])
        and ((started_at >= ${less[0]}::timestamptz and started_at < ${less[1]}::timestamptz)
          or (started_at >= ${afterEnd[0]}::timestamptz and started_at < ${afterEnd[1]}::timestamptz))
      group by client_id
    ) as parts
    group by client_id
    having sum(requests) > 0
    order by 2 desc, 3 desc, client_id
    limit ${TOP_N}`.execute(db);
  return toTopClients(rows);
}
