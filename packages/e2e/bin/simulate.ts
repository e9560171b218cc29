/*
 * `npm run simulate -- --devices 50 --users 10 --rounds 20 [--seed 7] [--loss 0.05]
 *   [--store memory|sqlite] [--url http://127.0.0.1:3000 [--secret <AUTH_JWT_SECRET>]]`
 *
 * Without --url an embedded server is started on a fresh in-memory PGlite database (or on a
 * fresh database of TEST_DATABASE_URL's PostgreSQL server when that is set) and stopped at
 * the end. With --url the fleet drives a running server; tokens are signed with --secret,
 * else AUTH_JWT_SECRET, else the dev secret under DATA_DIR (as `npx sync-engine token`).
 * Exits 1 when the devices did not converge or the server holds a wrong number of entities.
 */
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@sync-engine/client/sqlite';
import {
  startTestServer,
  tokenServiceFor,
  tokenServiceWithSecret,
  waitForFeedHorizon,
  type TestServer,
} from '@sync-engine/server/testing';
import { formatFleetReport, runFleet } from '../src/fleet.ts';

const USAGE = `usage: npm run simulate -- [--devices N] [--users M] [--rounds R] [--seed S] [--loss P]
                             [--store memory|sqlite] [--url URL [--secret SECRET]]`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      users: { type: 'string' },
      rounds: { type: 'string' },
      seed: { type: 'string' },
      loss: { type: 'string' },
      store: { type: 'string' },
      url: { type: 'string' },
      secret: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const devices = positiveInt('devices', values.devices, 20);
  const users = positiveInt('users', values.users, 5);
  if (users > devices) throw new Error('--users cannot exceed --devices');
  const rounds = positiveInt('rounds', values.rounds, 10);
  const seed =
    values.seed === undefined ? Date.now() % 2 ** 31 : positiveInt('seed', values.seed, 1);
  const lossRate = values.loss === undefined ? 0.05 : Number(values.loss);
  if (!(lossRate >= 0 && lossRate < 1)) throw new Error('--loss must be a number in [0, 1)');
  const store = values.store ?? 'memory';
  if (store !== 'memory' && store !== 'sqlite') throw new Error('--store must be memory or sqlite');

  let server: TestServer | undefined;
  let baseUrl: string;
  let tokenFor: (userId: string) => Promise<string>;
  let settle: ((userId: string) => Promise<void>) | undefined;
  if (values.url === undefined) {
    process.stdout.write('starting an embedded server…\n');
    const embedded = await startTestServer();
    server = embedded;
    baseUrl = embedded.url;
    tokenFor = (userId) => embedded.token(userId);
    settle = (userId) => waitForFeedHorizon(embedded.database.db, userId);
  } else {
    baseUrl = values.url;
    const tokens =
      values.secret === undefined
        ? await tokenServiceFor(process.env)
        : tokenServiceWithSecret(values.secret);
    tokenFor = (userId) => tokens.issue(userId, { ttlSeconds: 3600 });
  }

  try {
    process.stdout.write(
      `simulating ${devices} devices × ${users} users × ${rounds} rounds against ${baseUrl} (seed ${seed})\n`,
    );
    const report = await runFleet({
      baseUrl,
      tokenFor,
      devices,
      users,
      rounds,
      seed,
      lossRate,
      // A run against a long-lived server gets users of its own.
      userPrefix: `sim-${seed}-${Date.now().toString(36)}`,
      ...(settle ? { settle } : {}),
      ...(store === 'sqlite' ? { openStore: () => createSqliteStore() } : {}),
      onRound: (round, p) => {
        process.stdout.write(
          `round ${round}/${rounds}: ${p.creates + p.updates + p.deletes} edits, ${p.syncs} syncs (${p.failedSyncs} interrupted), ${p.conflicts} conflicts\n`,
        );
      },
    });
    process.stdout.write(`${formatFleetReport(report)}\n`);
    return report.converged && report.exactlyOnce && report.deadLetters === 0 ? 0 : 1;
  } finally {
    await server?.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `simulate: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`,
    );
    process.exitCode = 2;
  },
);
