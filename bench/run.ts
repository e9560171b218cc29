import { mkdir, writeFile } from 'node:fs/promises';
import { BENCH_SERVER_URL } from './bench-database.ts';
import { pullScaling } from './pull-scaling.ts';
import { pushCaptureOverhead } from './push-throughput.ts';
import { telemetryMetrics } from './telemetry-metrics.ts';

/**
 * `npm run bench [scenario…]`: speed and memory targets live here, never in timed tests.
 * Scenarios: push (capture off vs on), pull, telemetry (dashboard /metrics over 1M
 * captures). Runs on BENCH_DATABASE_URL (or TEST_DATABASE_URL) when set, else on embedded
 * PGlite. Results print as a table, with a `target` column where a scenario has one, and are
 * written to bench/results/.
 */
const wanted = new Set(process.argv.slice(2));
const run = (name: string) => wanted.size === 0 || wanted.has(name);
const onServer = BENCH_SERVER_URL !== undefined;
const results: Record<string, unknown>[] = [];

const envInt = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

if (run('push')) {
  results.push(
    ...(await pushCaptureOverhead({
      rounds: envInt('BENCH_PUSH_ROUNDS', 4),
      warmup: envInt('BENCH_PUSH_WARMUP', 1),
      clients: onServer ? 8 : 1,
      pushes: envInt('BENCH_PUSH_PUSHES', onServer ? 40 : 10),
      batch: 100,
    })),
  );
}
if (run('pull')) {
  const sizes = (process.env['BENCH_PULL_SIZES'] ?? (onServer ? '10000,100000,1000000' : '10000,100000'))
    .split(',')
    .map(Number);
  results.push(...(await pullScaling(sizes)));
}

if (run('telemetry')) {
  results.push(...(await telemetryMetrics({ captures: envInt('BENCH_TELEMETRY_CAPTURES', onServer ? 1_000_000 : 100_000) })));
}

console.table(results);
const memory = process.memoryUsage();
console.log(`driver: ${onServer ? 'postgres' : 'pglite'}; peak rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB`);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
await writeFile(file, JSON.stringify({ driver: onServer ? 'postgres' : 'pglite', results, memory }, null, 2));
