import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config/env.ts';
import { createTokenService } from '../packages/server/src/http/auth-tokens.ts';
import { syncMetrics } from '../packages/server/src/metrics/sync-metrics.ts';
import { openBenchDatabase } from './bench-database.ts';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnop';
/** The target: capture on costs push throughput at most this much. */
const MAX_CAPTURE_OVERHEAD = 0.05;

function pushBody(deviceId: string, n: number) {
  return {
    syncOperationId: randomUUID(),
    deviceId,
    changes: Array.from({ length: n }, (_, i) => ({
      requestId: randomUUID(),
      entityType: 'consumptions' as const,
      entityId: randomUUID(),
      changeType: 'CREATE' as const,
      changeData: { timestamp: new Date(1_700_000_000_000 + i * 1000).toISOString(), intensity: (i % 10) + 1, notes: `n${i}` },
      syncVersion: 0,
    })),
  };
}

export interface PushRun {
  readonly capture: boolean;
  readonly changes: number;
  readonly seconds: number;
  readonly changesPerSecond: number;
  readonly rawInsertRowsPerSecond: number;
  /** Captures written during and after the run (all of them, or the run's numbers would flatter capture). */
  readonly capturesWritten: number;
  readonly capturesDropped: number;
  /** What was still queued when the pushes ended, written by the flush that followed. */
  readonly backlogFlushMs: number;
}

const counterTotal = async (counter: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);

/**
 * Push throughput through the whole HTTP stack (routing, auth, validation, idempotency,
 * lock, decide, set-based writes, capture when on): `clients` users push concurrently,
 * each `pushes` pushes of `batch` CREATEs, on a fresh database with a pool of one connection
 * per client (the capture flusher takes its connection from the same pool). Beside it, the
 * same rows inserted by plain multi-row INSERTs: the floor a sync engine's bookkeeping is
 * measured against.
 */
export async function pushThroughput(opts: { clients: number; pushes: number; batch: number; capture: boolean }): Promise<PushRun> {
  await using database = await openBenchDatabase(opts.clients);
  const tokens = createTokenService(SECRET);
  const app = await buildApp({
    config: loadConfig({ AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'silent', CAPTURE_ENABLED: String(opts.capture) }),
    database,
    tokens,
    cursorKey: SECRET,
  });
  await app.ready(); // starts the capture flusher, as listen() would
  try {
    const users = Array.from({ length: opts.clients }, (_, i) => `bench-${i}`);
    const auth = await Promise.all(users.map(async (u) => `Bearer ${await tokens.issue(u)}`));
    // Warm up code paths and the connection pool.
    await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: { authorization: auth[0]! }, payload: pushBody('warm', 10) });
    await app.captureFlush();
    const written0 = await counterTotal(syncMetrics.captureWritten);
    const dropped0 = await counterTotal(syncMetrics.captureDropped);

    const t0 = performance.now();
    await Promise.all(
      users.map(async (_u, i) => {
        for (let k = 0; k < opts.pushes; k++) {
          const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: { authorization: auth[i]! }, payload: pushBody(`d${i}`, opts.batch) });
          if (res.statusCode !== 200) throw new Error(`push answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const f0 = performance.now();
    await app.captureFlush();
    const backlogFlushMs = performance.now() - f0;
    const changes = opts.clients * opts.pushes * opts.batch;

    // The floor: the same number of rows as plain INSERTs, same concurrency and batch size.
    const r0 = performance.now();
    await Promise.all(
      users.map(async (u) => {
        for (let k = 0; k < opts.pushes; k++) {
          await sql`insert into consumptions (id, user_id, timestamp, intensity, notes)
            select gen_random_uuid(), ${u}, now(), (g % 10) + 1, 'n' || g from generate_series(1, ${opts.batch}) g`.execute(database.db);
        }
      }),
    );
    const rawSeconds = (performance.now() - r0) / 1000;
    return {
      capture: opts.capture,
      changes,
      seconds,
      changesPerSecond: changes / seconds,
      rawInsertRowsPerSecond: changes / rawSeconds,
      capturesWritten: (await counterTotal(syncMetrics.captureWritten)) - written0,
      capturesDropped: (await counterTotal(syncMetrics.captureDropped)) - dropped0,
      backlogFlushMs,
    };
  } finally {
    await app.close();
  }
}

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Capture on against capture off, interleaved (off/on, then on/off, …) so drift in the
 * machine's load — other processes, a warming JIT and disk — falls on both sides alike.
 * `warmup` rounds run first and are not counted (the first runs of a process are the slowest,
 * which would favour whichever side runs second). The verdict is the median of the rounds'
 * own overheads: each compares two runs made back to back.
 */
export async function pushCaptureOverhead(opts: {
  rounds: number;
  warmup: number;
  clients: number;
  pushes: number;
  batch: number;
}): Promise<Record<string, unknown>[]> {
  for (let round = 0; round < opts.warmup; round++) {
    for (const capture of [false, true]) await pushThroughput({ ...opts, capture });
  }
  const rounds: { off: PushRun; on: PushRun }[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    const runs = new Map<boolean, PushRun>();
    for (const capture of order) runs.set(capture, await pushThroughput({ ...opts, capture }));
    rounds.push({ off: runs.get(false)!, on: runs.get(true)! });
  }
  const rows: Record<string, unknown>[] = rounds.flatMap(({ off, on }, i) =>
    [off, on].map((r) => ({
      scenario: `push ${opts.batch}-change batches, ${opts.clients} clients, capture ${r.capture ? 'on' : 'off'} (round ${i + 1})`,
      changes: r.changes,
      seconds: r.seconds.toFixed(2),
      changesPerSecond: Math.round(r.changesPerSecond),
      rawInsertRowsPerSecond: Math.round(r.rawInsertRowsPerSecond),
      captured: r.capture ? `${r.capturesWritten} written, ${r.capturesDropped} dropped, backlog ${r.backlogFlushMs.toFixed(0)} ms` : '',
      overhead: r.capture ? `${((1 - on.changesPerSecond / off.changesPerSecond) * 100).toFixed(1)} %` : '',
    })),
  );
  const overhead = median(rounds.map(({ off, on }) => 1 - on.changesPerSecond / off.changesPerSecond));
  const off = median(rounds.map((r) => r.off.changesPerSecond));
  const on = median(rounds.map((r) => r.on.changesPerSecond));
  rows.push({
    scenario: `push capture overhead (median of ${opts.rounds} rounds, after ${opts.warmup} warm-up)`,
    changesPerSecond: `off ${Math.round(off)} / on ${Math.round(on)}`,
    overhead: `${(overhead * 100).toFixed(1)} %`,
    target: `≤${MAX_CAPTURE_OVERHEAD * 100}% overhead: ${overhead <= MAX_CAPTURE_OVERHEAD ? 'yes' : 'no'}`,
  });
  return rows;
}
