import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncClient } from '@sync-engine/client';
import {
  describeEachDatabase,
  startTestServer,
  type TestServer,
} from '@sync-engine/server/testing';
import type { EntityType } from '@sync-engine/shared';
import { countEntities } from '../src/server-state.ts';
import {
  divergence,
  openDevice,
  serverStateOf,
  syncUntilQuiet,
  E2E_TIMEOUT_MS,
} from './devices.ts';

/*
 * Property: whatever a user does offline on two devices — creates naming other local
 * entities by local id, updates, deletes, in any order, with syncs of either device in
 * between — once both sync until quiet, each device equals the server state and the server
 * holds one entity per create. fast-check shrinks a failure to a short edit script.
 */

const ACTIONS = [
  'createProduct',
  'createSession',
  'createConsumption',
  'createPurchase',
  'createJournal',
  'createGoal',
  'updateProduct',
  'updateSession',
  'updateConsumption',
  'updateGoal',
  'deleteProduct',
  'deleteSession',
  'deleteConsumption',
  'sync',
] as const;

interface Op {
  readonly device: number;
  readonly action: (typeof ACTIONS)[number];
  readonly pick: number;
  readonly value: number;
}

const opArbitrary: fc.Arbitrary<Op> = fc.record({
  device: fc.integer({ min: 0, max: 1 }),
  action: fc.constantFrom(...ACTIONS),
  pick: fc.nat(1000),
  value: fc.integer({ min: 0, max: 20 }),
});

async function pickId(
  client: SyncClient,
  type: EntityType,
  pick: number,
): Promise<string | undefined> {
  const rows = await client.list(type);
  return rows.length === 0 ? undefined : rows[pick % rows.length]?.id;
}

/** An optional foreign key: none for a quarter of the picks. */
async function optionalRef(
  client: SyncClient,
  type: EntityType,
  pick: number,
): Promise<string | null> {
  return pick % 4 === 0 ? null : ((await pickId(client, type, pick)) ?? null);
}

const WORDS = ['a', 'b', 'c', 'd'];
const word = (n: number) => WORDS[n % WORDS.length] ?? 'a';

/** Applies one op; returns 1 when it created an entity. */
async function apply(client: SyncClient, op: Op): Promise<number> {
  const { pick, value } = op;
  const timestamp = new Date(Date.UTC(2024, 4, 1, 8, value)).toISOString();
  const update = async (type: EntityType, patch: Record<string, unknown>) => {
    const id = await pickId(client, type, pick);
    if (id !== undefined) await client.update(type, id, patch);
    return 0;
  };
  const remove = async (type: EntityType) => {
    const id = await pickId(client, type, pick);
    if (id !== undefined) await client.delete(type, id);
    return 0;
  };
  switch (op.action) {
    case 'createProduct':
      await client.create('products', { name: word(value), effects: [word(pick)] });
      return 1;
    case 'createSession':
      await client.create('sessions', {
        productId: await optionalRef(client, 'products', pick),
        notes: word(value),
      });
      return 1;
    case 'createConsumption':
      await client.create('consumptions', {
        timestamp,
        sessionId: await optionalRef(client, 'sessions', pick),
        productId: await optionalRef(client, 'products', pick + 1),
        intensity: 1 + (value % 10),
      });
      return 1;
    case 'createPurchase': {
      const productId = await pickId(client, 'products', pick);
      if (productId === undefined) return 0;
      await client.create('purchases', { productId, quantityPurchased: 1 + value });
      return 1;
    }
    case 'createJournal':
      await client.create('journal_entries', {
        content: word(value),
        tags: [word(pick)],
        consumptionId: await optionalRef(client, 'consumptions', pick),
        productId: await optionalRef(client, 'products', pick + 2),
      });
      return 1;
    case 'createGoal':
      await client.create('goals', { name: word(value), targetValue: 20, currentValue: value });
      return 1;
    case 'updateProduct':
      return update(
        'products',
        pick % 2 === 0 ? { name: word(value) } : { effects: [word(value)] },
      );
    case 'updateSession':
      return update(
        'sessions',
        pick % 2 === 0
          ? { notes: word(value) }
          : { status: pick % 3 === 0 ? 'PAUSED' : 'COMPLETED' },
      );
    case 'updateConsumption':
      return update('consumptions', pick % 2 === 0 ? { notes: word(value) } : { timestamp });
    case 'updateGoal':
      return update('goals', pick % 2 === 0 ? { currentValue: value } : { name: word(value) });
    case 'deleteProduct':
      return remove('products');
    case 'deleteSession':
      return remove('sessions');
    case 'deleteConsumption':
      return remove('consumptions');
    case 'sync':
      await client.sync();
      return 0;
  }
}

describeEachDatabase('random local edits then sync', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ target });
  });
  afterAll(async () => {
    await server.close();
  });

  let run = 0;
  it(
    'converge to the server state with every create stored once',
    { timeout: E2E_TIMEOUT_MS },
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 30 }), async (ops) => {
          const user = `edits-${target.driver}-${++run}`;
          const devices = [openDevice(server, user, 'd0'), openDevice(server, user, 'd1')];
          try {
            let creates = 0;
            for (const op of ops) {
              const device = devices[op.device];
              if (device !== undefined) creates += await apply(device, op);
            }
            await syncUntilQuiet(server, user, devices);
            expect(await divergence(server, user, devices)).toEqual([]);
            expect(countEntities(await serverStateOf(server, user))).toBe(creates);
            for (const device of devices) {
              expect(await device.deadLetters()).toEqual([]);
              expect(await device.pendingChanges()).toEqual([]);
            }
          } finally {
            for (const device of devices) await device.close();
          }
        }),
        { numRuns: 15 },
      );
    },
  );
});
