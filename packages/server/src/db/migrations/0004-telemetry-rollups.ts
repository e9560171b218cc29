import { sql, type Kysely } from 'kysely';

/*
 * Rollups of capture_requests for the dashboard's telemetry (`GET {prefix}/metrics`). With a
 * million captured requests in a day, aggregating the raw rows (three passes over the window,
 * plus a sort of every duration for the percentiles) took over 2 s on a 2-core machine; these
 * keep the answer under 200 ms (bench: `npm run bench telemetry`). The reader adds the raw
 * rows of the seconds or minutes at a window's edges, so counts stay exact.
 *
 * - capture_request_slots: counts per 5-second slot — totals, rates, the 24 h health strip.
 * - capture_latency_bins: requests per 5-minute slot and log-scale duration bin — percentiles
 *   of large windows (small ones are computed exactly from the raw rows).
 * - capture_client_days / capture_client_hours: requests and mutations per client and day /
 *   hour — the top clients: the days bound each client's count in a window from above, so
 *   only the few clients that can make the top ten are counted exactly, from their hours.
 *
 * Statement-level triggers keep them in step with every write to capture_requests (the
 * flusher's batched INSERTs, retention's DELETEs, a test's UPDATE, a TRUNCATE): the rollups
 * cannot drift from the rows, whoever writes them. Slots are aligned on the epoch with
 * date_bin, so they do not depend on the session's time zone.
 *
 * The slot widths are also in capture/telemetry-rollups.ts (the reader needs them); a
 * migration is never edited, so changing one means a new migration.
 */

const ORIGIN = `timestamptz '2000-01-01 00:00:00+00'`;

interface Rollup {
  readonly table: string;
  /** Key column → its expression over capture_requests' columns (in primary-key order). */
  readonly keys: Readonly<Record<string, string>>;
  /** Counter column → its aggregate over the rows of a key. */
  readonly counters: Readonly<Record<string, string>>;
  readonly where?: string;
}

const count = 'count(*)';
const mutations = 'coalesce(sum(mutation_count), 0)';

const ROLLUPS: readonly Rollup[] = [
  {
    table: 'capture_request_slots',
    keys: { slot_start: `date_bin('5 seconds', started_at, ${ORIGIN})` },
    counters: {
      requests: count,
      push_requests: `count(*) filter (where kind = 'push')`,
      pull_requests: `count(*) filter (where kind = 'pull')`,
      full_requests: `count(*) filter (where kind = 'full')`,
      mutations,
      conflicted: 'count(*) filter (where conflict_count > 0)',
      failed: `count(*) filter (where outcome = 'failed')`,
      duration_ms_sum: 'sum(duration_ms)',
    },
  },
  {
    table: 'capture_latency_bins',
    keys: { slot_start: `date_bin('5 minutes', started_at, ${ORIGIN})`, bin: 'capture_latency_bin(duration_ms)' },
    counters: { requests: count },
  },
  {
    table: 'capture_client_hours',
    keys: { client_id: 'client_id', hour_start: `date_bin('1 hour', started_at, ${ORIGIN})` },
    counters: { requests: count, mutations },
    where: 'client_id is not null',
  },
  {
    table: 'capture_client_days',
    keys: { day_start: `date_bin('1 day', started_at, ${ORIGIN})`, client_id: 'client_id' },
    counters: { requests: count, mutations },
    where: 'client_id is not null',
  },
];

/**
 * Upserts a rollup from the rows of `source`, added (+1) or removed (-1). Keys are upserted
 * in order, so two instances flushing at once lock them in the same order (no deadlock).
 */
function applyRollup(r: Rollup, source: string, sign: 1 | -1): string {
  const keys = Object.keys(r.keys);
  const counters = Object.keys(r.counters);
  const neg = sign === 1 ? '' : '-';
  const positions = keys.map((_, i) => i + 1).join(', ');
  return `insert into ${r.table} as t (${[...keys, ...counters].join(', ')})
    select ${[...keys.map((k) => r.keys[k]), ...counters.map((c) => `${neg}${r.counters[c]}`)].join(', ')}
    from ${source} ${r.where === undefined ? '' : `where ${r.where}`}
    group by ${positions} order by ${positions}
    on conflict (${keys.join(', ')}) do update set ${counters.map((c) => `${c} = t.${c} + excluded.${c}`).join(', ')}`;
}

/** Deletes the keys of a rollup that the removed rows of `source` left at zero requests. */
function dropEmptied(r: Rollup, source: string): string {
  const keys = Object.keys(r.keys);
  return `delete from ${r.table} as t
    using (select distinct ${keys.map((k) => `${r.keys[k]} as ${k}`).join(', ')} from ${source}
           ${r.where === undefined ? '' : `where ${r.where}`}) as k
    where ${keys.map((k) => `t.${k} = k.${k}`).join(' and ')} and t.requests = 0`;
}

/** A plpgsql trigger function running `statements` (PGlite runs one statement per query, so no script). */
function triggerFunction(name: string, statements: readonly string[]): string {
  return `create function ${name}() returns trigger language plpgsql as $$
    begin
      ${statements.map((s) => `${s};`).join('\n      ')}
      return null;
    end $$`;
}

const add = (source: string) => ROLLUPS.map((r) => applyRollup(r, source, 1));
const remove = (source: string) => [
  ...ROLLUPS.map((r) => applyRollup(r, source, -1)),
  ...ROLLUPS.map((r) => dropEmptied(r, source)),
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table capture_request_slots (
      slot_start timestamptz primary key,
      requests bigint not null,
      push_requests bigint not null,
      pull_requests bigint not null,
      full_requests bigint not null,
      mutations bigint not null,
      conflicted bigint not null,
      failed bigint not null,
      duration_ms_sum double precision not null
    )`.execute(db);
  await sql`
    create table capture_latency_bins (
      slot_start timestamptz not null,
      bin integer not null,
      requests bigint not null,
      primary key (slot_start, bin)
    )`.execute(db);
  // Read per client (the candidates for the top ten), so keyed by client first.
  await sql`
    create table capture_client_hours (
      client_id text not null,
      hour_start timestamptz not null,
      requests bigint not null,
      mutations bigint not null,
      primary key (client_id, hour_start)
    )`.execute(db);
  // Read per range of days (every client's upper bound), so keyed by day first.
  await sql`
    create table capture_client_days (
      day_start timestamptz not null,
      client_id text not null,
      requests bigint not null,
      mutations bigint not null,
      primary key (day_start, client_id)
    )`.execute(db);

  // Bin b holds durations in [0.01 ms · 1.05^b, 0.01 ms · 1.05^(b+1)): 5 % wide (about 100 bins
  // a slot, not 250); a percentile interpolated in its bin is within 5 % of the exact one.
  await sql`
    create function capture_latency_bin(duration_ms double precision) returns integer
    language sql immutable parallel safe
    return floor(ln(greatest(duration_ms, 0.01) / 0.01) / ln(1.05))::integer`.execute(db);
  // Where bin b starts: the reader interpolates between a bin's start and the next one's, so
  // the bins' shape lives here alone.
  await sql`
    create function capture_latency_bin_start(bin integer) returns double precision
    language sql immutable parallel safe
    return 0.01 * power(1.05, bin)`.execute(db);

  const statements = [
    triggerFunction('capture_rollups_on_insert', add('added')),
    triggerFunction('capture_rollups_on_delete', remove('removed')),
    triggerFunction('capture_rollups_on_update', [...remove('removed'), ...add('added')]),
    triggerFunction('capture_rollups_on_truncate', [`truncate ${ROLLUPS.map((r) => r.table).join(', ')}`]),
    `create trigger capture_rollups_insert after insert on capture_requests
      referencing new table as added for each statement execute function capture_rollups_on_insert()`,
    `create trigger capture_rollups_delete after delete on capture_requests
      referencing old table as removed for each statement execute function capture_rollups_on_delete()`,
    `create trigger capture_rollups_update after update on capture_requests
      referencing old table as removed new table as added for each statement execute function capture_rollups_on_update()`,
    `create trigger capture_rollups_truncate after truncate on capture_requests
      for each statement execute function capture_rollups_on_truncate()`,
    // Captures stored before this migration.
    ...add('capture_requests'),
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const op of ['truncate', 'update', 'delete', 'insert']) {
    await sql.raw(`drop trigger if exists capture_rollups_${op} on capture_requests`).execute(db);
    await sql.raw(`drop function if exists capture_rollups_on_${op}()`).execute(db);
  }
  await sql`drop function if exists capture_latency_bin_start(integer)`.execute(db);
  await sql`drop function if exists capture_latency_bin(double precision)`.execute(db);
  await sql.raw(`drop table if exists ${ROLLUPS.map((r) => r.table).join(', ')}`).execute(db);
}
