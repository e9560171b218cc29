import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config/env.ts';
import { createTokenService } from '../packages/server/src/http/auth-tokens.ts';
import { openBenchDatabase } from './bench-database.ts';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnop';

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

/**
 * Push throughput through the whole HTTP stack (routing, auth, validation, idempotency,
 * lock, decide, set-based writes, capture when on): `clients` users push concurrently,
 * each `pushes` pushes of `batch` CREATEs. Beside it, the same rows inserted by plain
 * multi-row INSERTs: the floor a sync engine's bookkeeping is measured against.
 */
export async function pushThroughput(opts: { clients: number; pushes: number; batch: number; capture: boolean }): Promise<Record<string, unknown>[]> {
  await using database = await openBenchDatabase(opts.clients);
  const tokens = createTokenService(SECRET);
  const app = await buildApp({
    config: loadConfig({ AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'silent', CAPTURE_ENABLED: String(opts.capture) }),
    database,
    tokens,
    cursorKey: SECRET,
  });
  try {
    const users = Array.from({ length: opts.clients }, (_, i) => `bench-${i}`);
    const auth = await Promise.all(users.map(async (u) => `Bearer ${await tokens.issue(u)}`));
    // Warm up code paths and the connection pool.
    await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: { authorization: auth[0]! }, payload: pushBody('warm', 10) });

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
    return [
      {
        scenario: `push ${opts.batch}-change batches, ${opts.clients} clients, capture ${opts.capture ? 'on' : 'off'}`,
        changes,
        seconds: seconds.toFixed(2),
        changesPerSecond: Math.round(changes / seconds),
        rawInsertRowsPerSecond: Math.round(changes / rawSeconds),
      },
    ];
  } finally {
    await app.close();
  }
}
