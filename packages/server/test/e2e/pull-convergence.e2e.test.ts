import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ENTITY_REGISTRY,
  ENTITY_SYNC_ORDER,
  GOAL_STATUSES,
  SESSION_STATUSES,
  syncRank,
  type EntityType,
  type PushResult,
} from '@sync-engine/shared';
import { rowToEntityState } from '../../src/db/entity-rows.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import {
  pullAll,
  pullPage,
  pushChanges,
  waitForFeedHorizon,
  type ChangeInput,
} from '../support/sync-client.ts';

/*
 * Convergence: devices of one user edit every entity type at random, push and pull in random
 * interleavings (concurrently within a step), then each pulls until hasMore=false. Each
 * device is a plain store keyed by entityType+serverId: pulled `data` replaces an entry
 * wholesale; its own pushes are applied from the push answer (APPLIED → its change at the
 * answered version, a conflict → the resolvedState). Afterwards every device holds exactly
 * the server's entities, and no change was ever pulled twice by a device.
 */

type State = Record<string, unknown>;

/** What a device knows of one entity. */
type Entry =
  /** A pulled state or a conflict's resolvedState: the whole server state at its version. */
  | { readonly kind: 'complete'; readonly state: State }
  /** Its own applied CREATE/UPDATE: the fields it wrote on top of what it knew (no updatedAt). */
  | { readonly kind: 'partial'; readonly state: State }
  /** Its own applied DELETE: a tombstone at that version. */
  | { readonly kind: 'tombstone'; readonly version: number };

const word = fc.stringMatching(/^[a-z]{1,6}$/);
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });
const timestamp = fc
  .integer({ min: 0, max: 1000 })
  .map((m) => new Date(Date.UTC(2024, 4, 1, 20, m)).toISOString());
const quarter = (max: number) => fc.integer({ min: 0, max: max * 4 }).map((n) => n / 4);
const tagList = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 3 });

/** Client-writable, non-reference fields of every type, with values the server stores as sent. */
const FIELD_VALUES: {
  readonly [T in EntityType]: Readonly<Record<string, fc.Arbitrary<unknown>>>;
} = {
  products: { name: word, description: nullable(word), effects: tagList },
  devices: {
    deviceName: nullable(word),
    settings: fc.dictionary(fc.constantFrom('k', 'l'), fc.integer({ min: 0, max: 9 })),
    firmwareVersion: word,
  },
  sessions: { status: fc.constantFrom(...SESSION_STATUSES), notes: nullable(word) },
  consumptions: {
    timestamp,
    intensity: nullable(fc.integer({ min: 1, max: 10 })),
    quantity: nullable(quarter(5)),
    notes: nullable(word),
  },
  journal_entries: {
    content: word,
    tags: tagList,
    symptoms: tagList,
    reactions: fc.dictionary(
      fc.constantFrom('x', 'y'),
      fc.oneof(
        fc.integer({ min: 0, max: 3 }),
        fc.dictionary(fc.constantFrom('p', 'q'), fc.boolean()),
      ),
    ),
  },
  purchases: {
    quantityPurchased: quarter(5).map((q) => q + 0.25),
    price: nullable(quarter(10)),
    purchasedAt: timestamp,
    isActive: fc.boolean(),
  },
  inventory_items: { quantityRemaining: quarter(10), isActive: fc.boolean() },
  goals: {
    name: word,
    targetValue: fc.integer({ min: 0, max: 50 }),
    currentValue: fc.integer({ min: 0, max: 50 }),
    status: fc.constantFrom(...GOAL_STATUSES),
  },
  ai_usage_records: {
    model: word,
    inputTokens: fc.nat(500),
    outputTokens: fc.nat(500),
    totalCost: quarter(10),
    timestamp,
  },
};

const refFields = (type: EntityType) =>
  Object.entries(ENTITY_REGISTRY[type].fields).flatMap(([name, spec]) =>
    spec.kind === 'ref' && spec.target !== undefined
      ? [{ name, target: spec.target, required: !spec.nullable }]
      : [],
  );

type Edit =
  | {
      readonly op: 'create';
      readonly type: EntityType;
      readonly data: State;
      readonly refs: Readonly<Record<string, number | null>>;
    }
  /** Targets any entity the device knows (or creates in the same push); a patch per type. */
  | {
      readonly op: 'update';
      readonly pick: number;
      readonly byClientId: boolean;
      readonly patches: Readonly<Record<EntityType, State>>;
    }
  | { readonly op: 'delete'; readonly pick: number; readonly byClientId: boolean };

const arbCreate: fc.Arbitrary<Edit> = fc.constantFrom(...ENTITY_SYNC_ORDER).chain((type) => {
  const fields = FIELD_VALUES[type];
  const required = Object.keys(fields).filter(
    (f) => ENTITY_REGISTRY[type].fields[f]!.requiredOnCreate,
  );
  const refs = Object.fromEntries(
    refFields(type).map((r) => [r.name, r.required ? fc.nat() : nullable(fc.nat())]),
  );
  return fc.record({
    op: fc.constant('create' as const),
    type: fc.constant(type),
    data: fc.record(fields, { requiredKeys: required }),
    refs: fc.record(refs),
  });
});
const arbPatches = fc.record(
  Object.fromEntries(
    ENTITY_SYNC_ORDER.map((t) => [t, fc.record(FIELD_VALUES[t], { requiredKeys: [] })]),
  ) as Record<EntityType, fc.Arbitrary<State>>,
);
const arbEdit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 3, arbitrary: arbCreate },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      pick: fc.nat(),
      byClientId: fc.boolean(),
      patches: arbPatches,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      pick: fc.nat(),
      byClientId: fc.boolean(),
    }),
  },
);

type Action =
  | { readonly kind: 'push'; readonly edits: readonly Edit[] }
  | { readonly kind: 'pull'; readonly limit: number };
const arbAction: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      edits: fc.array(arbEdit, { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('pull' as const),
      limit: fc.integer({ min: 1, max: 5 }),
    }),
  },
);

/** A scenario: devices, then steps; the actions of one step run concurrently (one per device). */
const arbScenario = fc.integer({ min: 2, max: 3 }).chain((devices) =>
  fc.record({
    devices: fc.constant(devices),
    steps: fc.array(
      fc.uniqueArray(fc.record({ device: fc.nat(devices - 1), action: arbAction }), {
        selector: (a) => a.device,
        minLength: 1,
        maxLength: devices,
      }),
      {
        minLength: 1,
        maxLength: 6,
      },
    ),
    finalLimit: fc.integer({ min: 2, max: 7 }),
  }),
);

class DeviceModel {
  readonly entries = new Map<string, Entry>();
  /** Client ids of the entities this device created, by store key. */
  private readonly clientIds = new Map<string, string>();
  private readonly pulled = new Set<string>();
  private cursor: string | undefined;
  private created = 0;

  constructor(
    readonly id: string,
    private readonly server: TestServer,
    private readonly user: string,
  ) {}

  async pull(limit: number): Promise<boolean> {
    const page = await pullPage(this.server, this.user, {
      deviceId: this.id,
      cursor: this.cursor,
      limit,
    });
    expect(page.status).toBe(200);
    for (const change of page.body.changes) {
      expect(change.originDeviceId, 'own changes are left out').not.toBe(this.id);
      expect(
        this.pulled.has(change.changeId),
        `change ${change.changeId} pulled twice by ${this.id}`,
      ).toBe(false);
      this.pulled.add(change.changeId);
      expect(change.data['id']).toBe(change.entityId);
      this.entries.set(`${change.entityType}:${change.entityId}`, {
        kind: 'complete',
        state: change.data,
      });
    }
    this.cursor = page.body.cursor;
    return page.body.hasMore;
  }

  async pullToEnd(limit: number): Promise<void> {
    for (let i = 0; i < 500 && (await this.pull(limit)); i++);
  }

  /** Turns abstract edits into a push against what this device knows, pushes, applies the answer. */
  async push(edits: readonly Edit[]): Promise<void> {
    const changes: ChangeInput[] = [];
    /** Creates of this batch, not yet known by server id: type → client ids. */
    const pending = new Map<EntityType, string[]>();
    const local = new Map<string, { data: State; clientId: string }>(); // requestId → CREATE as written locally
    const live = (type: EntityType) =>
      [...this.entries].filter(([k, e]) => k.startsWith(`${type}:`) && isLive(e)).map(([k]) => k);

    for (const edit of edits) {
      const requestId = `${this.id}-q${this.created++}`;
      if (edit.op === 'create') {
        const data: State = { ...edit.data };
        let possible = true;
        for (const ref of refFields(edit.type)) {
          const pick = edit.refs[ref.name];
          const candidates = [
            ...live(ref.target).map((k) => k.slice(ref.target.length + 1)),
            ...(pending.get(ref.target) ?? []),
          ];
          if (pick === null || pick === undefined || candidates.length === 0) {
            if (ref.required) possible = false;
            continue;
          }
          data[ref.name] = candidates[pick % candidates.length];
        }
        if (!possible) continue;
        const clientId = `${this.id}-c${this.created++}`;
        pending.set(edit.type, [...(pending.get(edit.type) ?? []), clientId]);
        local.set(requestId, { data, clientId });
        changes.push({
          requestId,
          entityType: edit.type,
          entityId: clientId,
          changeType: 'CREATE',
          changeData: data,
          syncVersion: 0,
        });
        continue;
      }
      const targets = [
        ...this.entries.keys(),
        ...[...pending].flatMap(([type, clientIds]) =>
          clientIds.map((c) => `${type}:pending:${c}`),
        ),
      ];
      if (targets.length === 0) continue;
      const target = targets[edit.pick % targets.length]!;
      const type = target.slice(0, target.indexOf(':')) as EntityType;
      const rest = target.slice(type.length + 1);
      let entityId: string;
      let syncVersion: number;
      if (rest.startsWith('pending:')) {
        entityId = rest.slice('pending:'.length);
        syncVersion = 1;
      } else {
        entityId = edit.byClientId ? (this.clientIds.get(target) ?? rest) : rest;
        syncVersion = versionOf(this.entries.get(target)!);
      }
      changes.push(
        edit.op === 'update'
          ? {
              requestId,
              entityType: type,
              entityId,
              changeType: 'UPDATE',
              changeData: edit.patches[type],
              syncVersion,
            }
          : { requestId, entityType: type, entityId, changeType: 'DELETE', syncVersion },
      );
    }
    if (changes.length === 0) return;

    const answer = await pushChanges(this.server, this.user, this.id, changes);
    expect([200, 207], JSON.stringify(answer.body)).toContain(answer.status);
    this.apply(changes, local, answer.body);
  }

  private apply(
    changes: readonly ChangeInput[],
    local: Map<string, { data: State; clientId: string }>,
    answer: PushResult,
  ): void {
    expect(answer.failed, 'every generated change is valid').toEqual([]);
    const serverIdOf = new Map(
      answer.idMappings.map((m) => [`${m.entityType}:${m.clientId}`, m.serverId]),
    );
    const success = new Map(answer.successful.map((s) => [s.requestId, s]));
    const conflicts = new Map(answer.conflicts.map((c) => [c.requestId, c]));
    // The order the server applied them in: sync order, stable within a type.
    const ordered = [...changes].sort((a, b) => syncRank(a.entityType) - syncRank(b.entityType));
    for (const change of ordered) {
      const conflict = conflicts.get(change.requestId);
      if (conflict !== undefined) {
        if (conflict.resolvedState !== null) {
          this.entries.set(`${change.entityType}:${conflict.serverId}`, {
            kind: 'complete',
            state: conflict.resolvedState,
          });
        }
        continue;
      }
      const done = success.get(change.requestId);
      expect(done, `an outcome for ${change.requestId}`).toBeDefined();
      if (done!.outcome !== 'APPLIED') continue;
      const key = `${change.entityType}:${done!.serverId}`;
      if (change.changeType === 'CREATE') {
        const { data, clientId } = local.get(change.requestId)!;
        const state: State = {
          id: done!.serverId,
          version: done!.version,
          deletedAt: null,
          ...data,
        };
        for (const ref of refFields(change.entityType)) {
          const value = state[ref.name];
          if (typeof value === 'string')
            state[ref.name] = serverIdOf.get(`${ref.target}:${value}`) ?? value;
        }
        this.entries.set(key, { kind: 'partial', state });
        this.clientIds.set(key, clientId);
      } else if (change.changeType === 'UPDATE') {
        const before = this.entries.get(key);
        expect(before?.kind, `UPDATE of ${key} applied to an entity the device knows`).toMatch(
          /complete|partial/,
        );
        const state: State = {
          ...(before as { state: State }).state,
          ...change.changeData,
          version: done!.version,
        };
        delete state['updatedAt']; // the server's time of the change, which the device does not know
        this.entries.set(key, { kind: 'partial', state });
      } else {
        this.entries.set(key, { kind: 'tombstone', version: done!.version });
      }
    }
  }
}

function isLive(entry: Entry): boolean {
  return entry.kind !== 'tombstone' && entry.state['deletedAt'] === null;
}

function versionOf(entry: Entry): number {
  return entry.kind === 'tombstone' ? entry.version : (entry.state['version'] as number);
}

/** The user's entities as the tables hold them, by type:id. */
async function tableState(server: TestServer, user: string): Promise<Map<string, State>> {
  const out = new Map<string, State>();
  for (const type of ENTITY_SYNC_ORDER) {
    const { rows } = await sql<
      Record<string, unknown>
    >`select * from ${sql.table(ENTITY_REGISTRY[type].table)} where user_id = ${user}`.execute(
      server.database.db,
    );
    for (const row of rows) {
      const state = rowToEntityState(type, row);
      out.set(`${type}:${state.id}`, { ...state });
    }
  }
  return out;
}

describeEachDatabase('pull convergence', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ target });
  });
  afterAll(async () => {
    await server.close();
  });

  it('the generator writes only real client fields of each type', () => {
    for (const type of ENTITY_SYNC_ORDER) {
      for (const name of Object.keys(FIELD_VALUES[type])) {
        const spec = ENTITY_REGISTRY[type].fields[name];
        expect(spec, `${type}.${name}`).toBeDefined();
        expect(spec!.derived || spec!.kind === 'ref', `${type}.${name}`).toBe(false);
      }
    }
  });

  it('devices editing every type in random interleavings, then pulling to hasMore=false, each hold exactly the server state (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(arbScenario, async (scenario) => {
        const user = `converge-${run++}`;
        const devices = Array.from(
          { length: scenario.devices },
          (_, i) => new DeviceModel(`dev${i}`, server, user),
        );
        for (const step of scenario.steps) {
          await Promise.all(
            step.map(({ device, action }) =>
              action.kind === 'push'
                ? devices[device]!.push(action.edits)
                : devices[device]!.pull(action.limit),
            ),
          );
        }

        await waitForFeedHorizon(server.database.db, user);
        // The server's state: a full pull from scratch, which must equal the tables.
        const fromScratch = await pullAll(server, user, { limit: scenario.finalLimit });
        const serverState = new Map<string, State>();
        for (const c of fromScratch.changes)
          serverState.set(`${c.entityType}:${c.entityId}`, c.data);
        expect(serverState).toEqual(await tableState(server, user));

        for (const device of devices) {
          await device.pullToEnd(scenario.finalLimit);
          expect(
            [...device.entries.keys()].sort(),
            `${device.id} holds exactly the server's entities`,
          ).toEqual([...serverState.keys()].sort());
          for (const [key, entry] of device.entries) {
            const server = serverState.get(key)!;
            if (entry.kind === 'complete')
              expect(entry.state, `${device.id} ${key}`).toEqual(server);
            else if (entry.kind === 'partial')
              expect(pick(server, Object.keys(entry.state)), `${device.id} ${key}`).toEqual(
                entry.state,
              );
            else
              expect(
                [server['version'], server['deletedAt'] !== null],
                `${device.id} ${key}`,
              ).toEqual([entry.version, true]);
          }
        }
      }),
      { numRuns: target.driver === 'pglite' ? 100 : 40 },
    );
  }, 600_000);
});

function pick(state: State, keys: readonly string[]): State {
  return Object.fromEntries(keys.map((k) => [k, state[k]]));
}
