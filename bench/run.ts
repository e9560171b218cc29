import { mkdir, writeFile } from 'node:fs/promises';
import { BENCH_SERVER_URL } from './bench-database.ts';
import { pullScaling } from './pull-scaling.ts';
import { pushThroughput } from './push-throughput.ts';

/**
 * `npm run bench [scenario…]`: speed and memory targets live here, never in timed tests.
 * Scenarios: push, pull. Runs on BENCH_DATABASE_URL (or TEST_DATABASE_URL) when set,
 * else on embedded PGlite. Results print as a table and are written to bench/results/.
 */
const wanted = new Set(process.argv.slice(2));
const run = (name: string) => wanted.size === 0 || wanted.has(name);
const onServer = BENCH_SERVER_URL !== undefined;
const results: Record<string, unknown>[] = [];

if (run('push')) {
  const clients = onServer ? 8 : 1;
  for (const capture of [false, true]) {
    results.push(...(await pushThroughput({ clients, pushes: onServer ? 20 : 10, batch: 100, capture })));
  }
}
if (run('pull')) {
  const sizes = (process.env['BENCH_PULL_SIZES'] ?? (onServer ? '10000,100000,1000000' : '10000,100000'))
    .split(',')
    .map(Number);
  results.push(...(await pullScaling(sizes)));
}

console.table(results);
const memory = process.memoryUsage();
console.log(`driver: ${onServer ? 'postgres' : 'pglite'}; peak rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB`);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
await writeFile(file, JSON.stringify({ driver: onServer ? 'postgres' : 'pglite', results, memory }, null, 2));
