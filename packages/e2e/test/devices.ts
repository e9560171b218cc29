import {
  SyncClient,
  createMemoryStore,
  type EntityRow,
  type LocalStore,
  type SyncClientOptions,
} from '@sync-engine/client';
import { waitForFeedHorizon, type TestServer } from '@sync-engine/server/testing';
import { ENTITY_SYNC_ORDER, type EntityType } from '@sync-engine/shared';
import { diffDeviceFromServer, readServerState, type ServerState } from '../src/server-state.ts';

/** A device of `userId`: a SyncClient over its own store, talking to the real server. */
export function openDevice(
  server: TestServer,
  userId: string,
  deviceId: string,
  options: { store?: LocalStore } & Partial<SyncClientOptions> = {},
): SyncClient {
  return new SyncClient({
    baseUrl: server.url,
    deviceId,
    store: options.store ?? createMemoryStore(),
    getToken: () => server.token(userId),
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
    ...options,
  });
}

export async function rowsOf(client: SyncClient): Promise<Map<EntityType, EntityRow[]>> {
  const rows = new Map<EntityType, EntityRow[]>();
  for (const type of ENTITY_SYNC_ORDER)
    rows.set(type, await client.list(type, { includeDeleted: true }));
  return rows;
}

/** The user's full server state, once everything committed is visible to pulls. */
export async function serverStateOf(server: TestServer, userId: string): Promise<ServerState> {
  await waitForFeedHorizon(server.database.db, userId);
  return readServerState(server.url, await server.token(userId));
}

/** Every device syncs (in order), twice with the feed settled in between, so all see all. */
export async function syncUntilQuiet(
  server: TestServer,
  userId: string,
  devices: readonly SyncClient[],
): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    for (const device of devices) await device.sync();
    await waitForFeedHorizon(server.database.db, userId);
  }
}

/** Differences between each device and the server (empty = converged). */
export async function divergence(
  server: TestServer,
  userId: string,
  devices: readonly SyncClient[],
): Promise<string[]> {
  const state = await serverStateOf(server, userId);
  const problems: string[] = [];
  for (const device of devices)
    problems.push(...diffDeviceFromServer(device.deviceId, await rowsOf(device), state));
  return problems;
}

/**
 * These tests drive the real server through whole sync rounds; on a shared PostgreSQL
 * server a pull may also wait for other transactions (waitForFeedHorizon). A generous
 * ceiling keeps a busy CI machine from failing them; nothing asserts on time.
 */
export const E2E_TIMEOUT_MS = 180_000;
