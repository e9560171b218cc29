import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStore } from '@sync-engine/client';
import { createMemoryStore } from '@sync-engine/client';
import { createSqliteStore } from '@sync-engine/client/sqlite';
import {
  describeEachDatabase,
  startTestServer,
  type TestServer,
} from '@sync-engine/server/testing';
import { getForeignKeyRelations, ENTITY_SYNC_ORDER } from '@sync-engine/shared';
import {
  divergence,
  openDevice,
  rowsOf,
  serverStateOf,
  syncUntilQuiet,
  E2E_TIMEOUT_MS,
} from './devices.ts';

/*
 * Scenario (a): two devices of one user, both offline, each create a product, a session
 * naming it and consumptions naming both, all by local ids. Both sync, then both pull.
 * Every device ends with exactly the server's state: no duplicates, every id and foreign
 * key a server id — on either local store adapter.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const STORES: readonly { name: string; open: () => LocalStore }[] = [
  { name: 'memory', open: createMemoryStore },
  { name: 'sqlite', open: () => createSqliteStore() },
];

describeEachDatabase('two offline devices creating linked entities', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ target });
  });
  afterAll(async () => {
    await server.close();
  });

  for (const store of STORES) {
    it(
      `converges to the server state with server ids in every foreign key (${store.name} store)`,
      { timeout: E2E_TIMEOUT_MS },
      async () => {
        const user = `offline-${store.name}`;
        const phone = openDevice(server, user, 'phone', { store: store.open() });
        const tablet = openDevice(server, user, 'tablet', { store: store.open() });

        const made = [];
        for (const [device, label] of [
          [phone, 'Chamomile'],
          [tablet, 'Mint'],
        ] as const) {
          const product = await device.create('products', { name: label, effects: ['calm'] });
          const session = await device.create('sessions', { productId: product.id, notes: label });
          const consumptions = [];
          for (const minute of [0, 30]) {
            consumptions.push(
              await device.create('consumptions', {
                timestamp: new Date(Date.UTC(2024, 4, 1, 20, minute)).toISOString(),
                sessionId: session.id,
                productId: product.id,
                intensity: 3,
              }),
            );
          }
          made.push({ device, product, session, consumptions });
        }
        for (const { product, session } of made) {
          expect(product.id).toMatch(/^local-/);
          expect(session.data['productId']).toBe(product.id);
        }

        await phone.sync();
        await tablet.sync();
        await syncUntilQuiet(server, user, [phone, tablet]);

        const state = await serverStateOf(server, user);
        expect(state.get('products')?.size).toBe(2);
        expect(state.get('sessions')?.size).toBe(2);
        expect(state.get('consumptions')?.size).toBe(4);
        for (const session of state.get('sessions')?.values() ?? []) {
          expect(session).toMatchObject({ eventCount: 2, totalDurationMs: 30 * 60_000 });
        }
        expect(await divergence(server, user, [phone, tablet])).toEqual([]);

        for (const device of [phone, tablet]) {
          const rows = await rowsOf(device);
          for (const type of ENTITY_SYNC_ORDER) {
            for (const row of rows.get(type) ?? []) {
              expect(row.id).toMatch(UUID);
              for (const relation of getForeignKeyRelations(type)) {
                const value = row.data[relation.sourceField];
                if (value !== null) expect(value).toMatch(UUID);
              }
            }
          }
          expect(await device.pendingChanges()).toEqual([]);
          expect(await device.deadLetters()).toEqual([]);
        }

        // The app may keep using the ids it was given offline.
        const mine = made[0];
        if (mine === undefined) throw new Error('unreachable');
        const byClientId = await phone.get('sessions', mine.session.id);
        expect(byClientId?.id).toMatch(UUID);
        expect(byClientId?.data['productId']).toBe(
          (await phone.get('products', mine.product.id))?.id,
        );
        await phone.close();
        await tablet.close();
      },
    );
  }
});
