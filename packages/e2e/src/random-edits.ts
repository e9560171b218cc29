import type { EntityRow, SyncClient } from '@sync-engine/client';
import { GOAL_STATUSES, SESSION_STATUSES, type EntityType } from '@sync-engine/shared';
import type { SeededRandom } from './rng.ts';

/** One local edit a simulated user made. */
export interface EditRecord {
  readonly kind: 'create' | 'update' | 'delete';
  readonly entityType: EntityType;
  readonly id: string;
}

/*
 * Values come from small domains on purpose: devices of one user then edit the same
 * fields of the same entities with different values, which is what exercises conflict
 * resolution. Numbers are quarters and timestamps whole minutes, values the server stores
 * exactly as sent.
 */
const WORDS = ['calm', 'focus', 'sleep', 'energy', 'relief', 'mild'] as const;
const quarter = (rng: SeededRandom, max: number) => rng.int(0, max * 4) / 4;
const minute = (rng: SeededRandom) =>
  new Date(Date.UTC(2024, 4, 1, 8, rng.int(0, 600))).toISOString();
const maybe = <T>(rng: SeededRandom, value: () => T): T | null =>
  rng.chance(0.25) ? null : value();
const tags = (rng: SeededRandom) => rng.shuffle(WORDS).slice(0, rng.int(0, 3));

async function live(client: SyncClient, type: EntityType): Promise<EntityRow[]> {
  return client.list(type);
}

async function pickLive(
  client: SyncClient,
  rng: SeededRandom,
  type: EntityType,
): Promise<EntityRow | undefined> {
  const rows = await live(client, type);
  return rows.length === 0 ? undefined : rng.pick(rows);
}

/** An optional foreign key: a live local entity of `type`, or none. */
async function optionalRef(
  client: SyncClient,
  rng: SeededRandom,
  type: EntityType,
): Promise<string | null> {
  if (rng.chance(0.3)) return null;
  return (await pickLive(client, rng, type))?.id ?? null;
}

type Edit = (client: SyncClient, rng: SeededRandom) => Promise<EditRecord | undefined>;

const create =
  (
    entityType: EntityType,
    data: (client: SyncClient, rng: SeededRandom) => Promise<Record<string, unknown> | undefined>,
  ): Edit =>
  async (client, rng) => {
    const values = await data(client, rng);
    if (values === undefined) return undefined;
    const row = await client.create(entityType, values);
    return { kind: 'create', entityType, id: row.id };
  };

const update =
  (
    entityType: EntityType,
    patch: (client: SyncClient, rng: SeededRandom) => Promise<Record<string, unknown>>,
  ): Edit =>
  async (client, rng) => {
    const target = await pickLive(client, rng, entityType);
    if (target === undefined) return undefined;
    await client.update(entityType, target.id, await patch(client, rng));
    return { kind: 'update', entityType, id: target.id };
  };

const remove =
  (entityType: EntityType): Edit =>
  async (client, rng) => {
    const target = await pickLive(client, rng, entityType);
    if (target === undefined) return undefined;
    await client.delete(entityType, target.id);
    return { kind: 'delete', entityType, id: target.id };
  };

/** Weighted edits: mostly creates and updates, some deletes, across every entity type. */
const EDITS: readonly (readonly [number, Edit])[] = [
  [
    6,
    create('products', async (_c, r) => ({
      name: r.pick(WORDS),
      effects: tags(r),
      description: maybe(r, () => r.pick(WORDS)),
    })),
  ],
  [
    2,
    create('devices', async (_c, r) => ({
      deviceName: r.pick(WORDS),
      firmwareVersion: `1.${r.int(0, 3)}`,
      settings: { level: r.int(0, 3) },
    })),
  ],
  [
    5,
    create('sessions', async (c, r) => ({
      productId: await optionalRef(c, r, 'products'),
      deviceId: await optionalRef(c, r, 'devices'),
      notes: maybe(r, () => r.pick(WORDS)),
    })),
  ],
  [
    8,
    create('consumptions', async (c, r) => ({
      timestamp: minute(r),
      sessionId: await optionalRef(c, r, 'sessions'),
      productId: await optionalRef(c, r, 'products'),
      intensity: maybe(r, () => r.int(1, 10)),
      quantity: maybe(r, () => quarter(r, 4)),
    })),
  ],
  [
    3,
    create('journal_entries', async (c, r) => ({
      content: r.pick(WORDS),
      tags: tags(r),
      symptoms: tags(r),
      reactions: { [r.pick(WORDS)]: r.int(0, 3) },
      sessionId: await optionalRef(c, r, 'sessions'),
      consumptionId: await optionalRef(c, r, 'consumptions'),
    })),
  ],
  [
    3,
    create('purchases', async (c, r) => {
      const product = await pickLive(c, r, 'products');
      return (
        product && {
          productId: product.id,
          quantityPurchased: quarter(r, 4) + 0.25,
          price: maybe(r, () => quarter(r, 40)),
          isActive: r.chance(0.8),
        }
      );
    }),
  ],
  [
    2,
    create('inventory_items', async (c, r) => {
      const product = await pickLive(c, r, 'products');
      return (
        product && { productId: product.id, quantityRemaining: quarter(r, 10), isActive: true }
      );
    }),
  ],
  [
    3,
    create('goals', async (_c, r) => ({
      name: r.pick(WORDS),
      targetValue: r.int(1, 20),
      currentValue: 0,
      status: 'ACTIVE',
    })),
  ],
  [
    2,
    create('ai_usage_records', async (_c, r) => ({
      model: r.pick(['small', 'large']),
      inputTokens: r.int(0, 500),
      outputTokens: r.int(0, 500),
      totalCost: quarter(r, 2),
      timestamp: minute(r),
    })),
  ],
  [
    4,
    update('products', async (_c, r) =>
      r.chance(0.5)
        ? { name: r.pick(WORDS) }
        : { effects: tags(r), description: maybe(r, () => r.pick(WORDS)) },
    ),
  ],
  [
    4,
    update('sessions', async (_c, r) =>
      r.chance(0.5) ? { status: r.pick(SESSION_STATUSES) } : { notes: r.pick(WORDS) },
    ),
  ],
  [
    4,
    update('consumptions', async (_c, r) =>
      r.chance(0.5) ? { notes: r.pick(WORDS), intensity: r.int(1, 10) } : { timestamp: minute(r) },
    ),
  ],
  [
    2,
    update('journal_entries', async (_c, r) => ({
      tags: tags(r),
      reactions: { [r.pick(WORDS)]: { level: r.int(0, 3) } },
    })),
  ],
  [
    2,
    update('purchases', async (_c, r) => ({
      quantityPurchased: quarter(r, 4) + 0.25,
      isActive: r.chance(0.5),
    })),
  ],
  [
    3,
    update('inventory_items', async (_c, r) => ({
      quantityRemaining: quarter(r, 10),
      isActive: r.chance(0.7),
    })),
  ],
  [
    6,
    update('goals', async (_c, r) =>
      r.chance(0.6)
        ? { currentValue: r.int(0, 20) }
        : r.chance(0.5)
          ? { name: r.pick(WORDS) }
          : { status: r.pick(GOAL_STATUSES) },
    ),
  ],
  [
    2,
    update('devices', async (_c, r) => ({
      deviceName: r.pick(WORDS),
      settings: { level: r.int(0, 3) },
    })),
  ],
  [2, remove('consumptions')],
  [1, remove('journal_entries')],
  [1, remove('goals')],
  [1, remove('sessions')],
  [1, remove('products')],
];

const TOTAL_WEIGHT = EDITS.reduce((sum, [w]) => sum + w, 0);

/** One random edit on the device (nothing when the picked edit has no target yet). */
export async function randomEdit(
  client: SyncClient,
  rng: SeededRandom,
): Promise<EditRecord | undefined> {
  let roll = rng.int(1, TOTAL_WEIGHT);
  for (const [weight, edit] of EDITS) {
    roll -= weight;
    if (roll <= 0) return edit(client, rng);
  }
  return undefined;
}
