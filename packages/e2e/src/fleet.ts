import {
  SyncClient,
  createMemoryStore,
  type EntityRow,
  type FetchFunction,
  type LocalStore,
} from '@sync-engine/client';
import { ENTITY_SYNC_ORDER, type EntityType } from '@sync-engine/shared';
import { lossyNetwork, type LossyNetwork } from './lossy-network.ts';
import { randomEdit } from './random-edits.ts';
import { SeededRandom } from './rng.ts';
import { countEntities, diffDeviceFromServer, readServerState } from './server-state.ts';

/*
 * The fleet simulator: N devices spread over M users, each editing offline at random,
 * going on- and offline at random and syncing at random moments, concurrently, through a
 * network that may lose requests and answers. After the last round every device comes
 * online and syncs until quiet; then each device's store must equal the server's state
 * for its user (convergence) and the server must hold exactly one entity per local
 * create (exactly-once). Everything random comes from one seed.
 */

export interface FleetOptions {
  readonly baseUrl: string;
  /** A bearer token for a user id. */
  readonly tokenFor: (userId: string) => Promise<string>;
  readonly devices: number;
  readonly users: number;
  readonly rounds: number;
  readonly seed: number;
  /** Most edits one device makes in a round (default 4). */
  readonly maxEditsPerRound?: number;
  /** Chance a device is offline for a round (default 0.35). */
  readonly offlineRate?: number;
  /** Chance an online device syncs in a round (default 0.6). */
  readonly syncRate?: number;
  /** Share of requests, or their answers, the network loses during the rounds (default 0.05). */
  readonly lossRate?: number;
  /** Local store of each device (default memory). */
  readonly openStore?: (deviceId: string) => LocalStore;
  /** Prefix of user ids, so runs against one server do not share users. */
  readonly userPrefix?: string;
  /**
   * Called per user before the final pulls. A pull hands out only changes older than every
   * transaction still running on the server; on a shared PostgreSQL server the tests wait
   * here until the user's changes are past that horizon.
   */
  readonly settle?: (userId: string) => Promise<void>;
  readonly onRound?: (round: number, report: FleetProgress) => void;
  readonly fetch?: FetchFunction;
}

export interface FleetProgress {
  creates: number;
  updates: number;
  deletes: number;
  syncs: number;
  failedSyncs: number;
  conflicts: number;
}

export interface FleetReport extends FleetProgress {
  readonly seed: number;
  readonly devices: number;
  readonly users: number;
  readonly rounds: number;
  readonly settlePasses: number;
  readonly lostRequests: number;
  readonly lostAnswers: number;
  readonly deadLetters: number;
  /** Entities on the server, all users. */
  readonly serverEntities: number;
  /** Distinct local creates, all devices. */
  readonly expectedEntities: number;
  readonly exactlyOnce: boolean;
  /** Differences between devices and the server; empty when converged. */
  readonly mismatches: readonly string[];
  readonly converged: boolean;
  readonly durationMs: number;
}

interface Device {
  readonly id: string;
  readonly userId: string;
  readonly client: SyncClient;
  readonly rng: SeededRandom;
}

export async function runFleet(options: FleetOptions): Promise<FleetReport> {
  const started = performance.now();
  const root = SeededRandom.fromSeed(options.seed);
  const network: LossyNetwork = lossyNetwork(root.fork(), options.lossRate ?? 0.05, options.fetch);
  const userPrefix = options.userPrefix ?? `fleet-${options.seed}`;
  const userIds = Array.from({ length: options.users }, (_, u) => `${userPrefix}-user-${u}`);
  const tokens = new Map(
    await Promise.all(userIds.map(async (u) => [u, await options.tokenFor(u)] as const)),
  );
  const devices: Device[] = Array.from({ length: options.devices }, (_, d) => {
    const userId = userIds[d % userIds.length] as string;
    const id = `${userPrefix}-device-${d}`;
    const rng = root.fork();
    return {
      id,
      userId,
      rng,
      client: new SyncClient({
        baseUrl: options.baseUrl,
        deviceId: id,
        store: options.openStore?.(id) ?? createMemoryStore(),
        getToken: () => tokens.get(userId) ?? '',
        fetch: network.fetch,
        random: () => rng.float(),
        // Short waits: a simulation wants many syncs, not realistic pauses.
        retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
        changeRetry: { maxAttempts: 20, baseDelayMs: 0, maxDelayMs: 0 },
        maxChangesPerPush: 1 + rng.int(5, 60),
        pullLimit: 1 + rng.int(10, 200),
      }),
    };
  });

  const progress: FleetProgress = {
    creates: 0,
    updates: 0,
    deletes: 0,
    syncs: 0,
    failedSyncs: 0,
    conflicts: 0,
  };
  const sync = async (device: Device): Promise<void> => {
    progress.syncs++;
    try {
      const report = await device.client.sync();
      progress.conflicts += report.push.conflicts;
    } catch {
      // A lost network is part of the simulation; what was not done is done next time.
      progress.failedSyncs++;
    }
  };

  try {
    for (let round = 1; round <= options.rounds; round++) {
      const syncing: Promise<void>[] = [];
      for (const device of root.shuffle(devices)) {
        const offline = device.rng.chance(options.offlineRate ?? 0.35);
        const edits = device.rng.int(0, options.maxEditsPerRound ?? 4);
        for (let i = 0; i < edits; i++) {
          const edit = await randomEdit(device.client, device.rng);
          if (edit !== undefined) progress[`${edit.kind}s`]++;
        }
        // Online devices sync concurrently, each starting at its own random moment.
        if (!offline && device.rng.chance(options.syncRate ?? 0.6)) {
          const delay = device.rng.int(0, 20);
          syncing.push(
            new Promise((resolve) => setTimeout(resolve, delay)).then(() => sync(device)),
          );
        }
      }
      await Promise.all(syncing);
      options.onRound?.(round, { ...progress });
    }

    // Everyone comes online on a reliable network and syncs until nothing is left to push.
    network.setEnabled(false);
    let settlePasses = 0;
    for (; settlePasses < 5; settlePasses++) {
      for (const device of devices) await sync(device);
      for (const userId of userIds) await options.settle?.(userId);
      let queued = 0;
      for (const device of devices) queued += (await device.client.pendingChanges()).length;
      if (queued === 0 && settlePasses > 0) break;
    }
    // A last pull for everyone, after every push above is committed and settled.
    for (const device of devices) await sync(device);
    settlePasses++;

    const mismatches: string[] = [];
    let serverEntities = 0;
    let deadLetters = 0;
    for (const userId of userIds) {
      const server = await readServerState(options.baseUrl, tokens.get(userId) ?? '');
      serverEntities += countEntities(server);
      for (const device of devices.filter((d) => d.userId === userId)) {
        const rows = new Map<EntityType, EntityRow[]>();
        for (const type of ENTITY_SYNC_ORDER)
          rows.set(type, await device.client.list(type, { includeDeleted: true }));
        mismatches.push(...diffDeviceFromServer(device.id, rows, server));
        deadLetters += (await device.client.deadLetters()).length;
      }
    }
    return {
      ...progress,
      seed: options.seed,
      devices: options.devices,
      users: options.users,
      rounds: options.rounds,
      settlePasses,
      lostRequests: network.stats.lostRequests,
      lostAnswers: network.stats.lostAnswers,
      deadLetters,
      serverEntities,
      expectedEntities: progress.creates,
      exactlyOnce: serverEntities === progress.creates,
      mismatches,
      converged: mismatches.length === 0,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    for (const device of devices) await device.client.close();
  }
}

/** A short human summary of a run. */
export function formatFleetReport(report: FleetReport): string {
  const lines = [
    `fleet seed=${report.seed}: ${report.devices} devices × ${report.users} users × ${report.rounds} rounds in ${(report.durationMs / 1000).toFixed(1)} s`,
    `edits: ${report.creates} creates, ${report.updates} updates, ${report.deletes} deletes`,
    `syncs: ${report.syncs} (${report.failedSyncs} interrupted by the network; ${report.lostRequests} requests and ${report.lostAnswers} answers lost), ${report.conflicts} conflicts resolved, ${report.settlePasses} settle passes`,
    `exactly-once: server holds ${report.serverEntities} entities for ${report.expectedEntities} local creates → ${report.exactlyOnce ? 'OK' : 'MISMATCH'}`,
    `convergence: ${report.converged ? 'every device equals the server' : `${report.mismatches.length} differences`}; dead letters: ${report.deadLetters}`,
  ];
  for (const m of report.mismatches.slice(0, 20)) lines.push(`  ${m}`);
  if (report.mismatches.length > 20) lines.push(`  … and ${report.mismatches.length - 20} more`);
  return lines.join('\n');
}
