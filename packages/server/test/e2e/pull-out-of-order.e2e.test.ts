import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SyncStatusSchema, type PulledChange, type PushResult } from '@sync-engine/shared';
import { TEST_DATABASE_URL, createTestDatabase } from '../support/test-database.ts';
import { startTestServer, type HttpAnswer, type TestServer } from '../support/test-server.ts';
import {
  productCreates,
  pullAll,
  pullPage,
  pushChanges,
  waitForFeedHorizon,
} from '../support/sync-client.ts';

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Holds chosen pushes' transactions open just before commit, until released. */
class CommitGates {
  private readonly gates = new Map<string, { reached: Deferred; release: Deferred }>();

  readonly beforeCommit = async ({
    syncOperationId,
  }: {
    syncOperationId: string;
  }): Promise<void> => {
    const gate = this.gates.get(syncOperationId);
    if (gate === undefined) return;
    gate.reached.resolve();
    await gate.release.promise;
  };

  /** Lets every held push commit (after a failed test, so no transaction stays open). */
  releaseAll(): void {
    for (const gate of this.gates.values()) gate.release.resolve();
    this.gates.clear();
  }

  /** The push with this id will wait, its changes written, until `release()`. */
  hold(syncOperationId: string): { reached: Promise<void>; release: () => void } {
    const gate = { reached: deferred(), release: deferred() };
    this.gates.set(syncOperationId, gate);
    return { reached: gate.reached.promise, release: () => gate.release.resolve() };
  }
}

/** Out-of-order commits need several connections: PostgreSQL only (PGlite has one). */
describe.skipIf(TEST_DATABASE_URL === undefined)('out-of-order commits [postgres]', () => {
  const gates = new CommitGates();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      database: await createTestDatabase({ driver: 'postgres' }),
      testHooks: { beforeCommit: gates.beforeCommit },
    });
  });
  afterEach(() => gates.releaseAll());
  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  const feed = async (user: string) =>
    (
      await sql<{ seq: string; xid: string }>`
        select c.seq::text as seq, c.xid::text as xid from sync_changes c where c.user_id = ${user} order by c.xid, c.seq`.execute(
        server.database.db,
      )
    ).rows;

  it('a push whose transaction commits after a later one is pulled once it commits: the cursor never steps over it', async () => {
    const user = 'ooo-basic';
    const start = await pullPage(server, user, { deviceId: 'R' });
    let cursor = start.body.cursor;
    const received: PulledChange[] = [];

    const heldId = randomUUID();
    const held = gates.hold(heldId);
    const first = pushChanges(server, user, 'A', productCreates('a', 3), heldId);
    await held.reached; // A's rows are written, its transaction open

    const later = await pushChanges(server, user, 'B', productCreates('b', 3));
    expect(later.status).toBe(200);
    expect(await feed(user)).toHaveLength(3); // only B's are committed

    // The client pulls while A is open: B is committed, but nothing past A may be handed out.
    const during = await pullAll(server, user, { deviceId: 'R', cursor });
    received.push(...during.changes);
    cursor = during.cursor;
    expect(during.changes.map((c) => c.data['name'])).toEqual([]);
    expect(
      (
        await server.request<{ pendingChanges: number }>('GET', '/api/v1/sync/status?deviceId=R', {
          user,
        })
      ).body.pendingChanges,
    ).toBe(0);

    held.release();
    expect((await first).status).toBe(200);
    await waitForFeedHorizon(server.database.db, user);
    const after = await pullAll(server, user, { deviceId: 'R', cursor });
    received.push(...after.changes);

    // Zero misses, zero repeats, and in commit-safe feed order: A's transaction started first.
    expect(received.map((c) => c.data['name'])).toEqual(['a 0', 'a 1', 'a 2', 'b 0', 'b 1', 'b 2']);
    expect(received.map((c) => c.changeId).sort()).toEqual(
      (await feed(user)).map((r) => r.seq).sort(),
    );
    // B committed first with later sequence numbers than A's: a cursor over seq (or time) alone
    // would have stepped over A's changes at the pull made while A was open.
    const seqs = received.map((c) => BigInt(c.changeId));
    expect(seqs.slice(0, 3).every((a) => seqs.slice(3).every((b) => b > a))).toBe(true);
  });

  it('a later-started push committing first is pulled at once, and the earlier-held one after it commits', async () => {
    const user = 'ooo-reverse';
    let cursor = (await pullPage(server, user, { deviceId: 'R' })).body.cursor;
    const received: PulledChange[] = [];

    // B starts first (smaller transaction id) and is held; A starts later and is held too.
    const bId = randomUUID();
    const bGate = gates.hold(bId);
    const b = pushChanges(server, user, 'B', productCreates('b', 2), bId);
    await bGate.reached;
    const aId = randomUUID();
    const aGate = gates.hold(aId);
    const a = pushChanges(server, user, 'A', productCreates('a', 2), aId);
    await aGate.reached;

    // A commits first: it must wait behind B, which is still open.
    aGate.release();
    expect((await a).status).toBe(200);
    const mid = await pullAll(server, user, { deviceId: 'R', cursor });
    expect(mid.changes).toEqual([]);
    cursor = mid.cursor;

    bGate.release();
    expect((await b).status).toBe(200);
    await waitForFeedHorizon(server.database.db, user);
    const after = await pullAll(server, user, { deviceId: 'R', cursor });
    received.push(...after.changes);
    expect(received.map((c) => c.data['name'])).toEqual(['b 0', 'b 1', 'a 0', 'a 1']);
  });

  it("status shows syncInProgress while the device's push is running, and its lastSyncTime once it is answered", async () => {
    const user = 'ooo-status';
    const status = async (deviceId: string) =>
      SyncStatusSchema.parse(
        (await server.request('GET', `/api/v1/sync/status?deviceId=${deviceId}`, { user })).body,
      );
    const id = randomUUID();
    const gate = gates.hold(id);
    const running = pushChanges(server, user, 'A', productCreates('a', 1), id);
    await gate.reached;
    expect(await status('A')).toMatchObject({ syncInProgress: true, lastSyncTime: null });
    expect((await status('B')).syncInProgress).toBe(false);
    gate.release();
    expect((await running).status).toBe(200);
    const after = await status('A');
    expect(after.syncInProgress).toBe(false);
    expect(after.lastSyncTime).not.toBeNull();
  });

  it('any order of starts, holds and commits with a client pulling in between: zero misses, zero repeats (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(fc.record({ held: fc.boolean(), size: fc.integer({ min: 1, max: 3 }) }), {
            minLength: 2,
            maxLength: 5,
          })
          .chain((pushes) =>
            fc.record({
              pushes: fc.constant(pushes),
              releaseOrder: fc.shuffledSubarray(
                pushes.map((_, i) => i),
                { minLength: pushes.length, maxLength: pushes.length },
              ),
              limit: fc.integer({ min: 1, max: 4 }),
            }),
          ),
        async ({ pushes, releaseOrder, limit }) => {
          const user = `ooo-prop-${run++}`;
          const received = new Map<string, PulledChange>();
          let cursor: string | undefined;
          const pullNow = async () => {
            const page = await pullAll(server, user, { deviceId: 'R', cursor, limit });
            for (const c of page.changes) {
              expect(received.has(c.changeId), `change ${c.changeId} pulled twice`).toBe(false);
              received.set(c.changeId, c);
            }
            cursor = page.cursor;
          };

          const running: { answer: Promise<HttpAnswer<PushResult>>; release: () => void }[] = [];
          try {
            for (const [i, p] of pushes.entries()) {
              const id = randomUUID();
              if (p.held) {
                const gate = gates.hold(id);
                const answer = pushChanges(
                  server,
                  user,
                  `D${i}`,
                  productCreates(`p${i}`, p.size),
                  id,
                );
                await gate.reached;
                running.push({ answer, release: gate.release });
              } else {
                const answer = await pushChanges(
                  server,
                  user,
                  `D${i}`,
                  productCreates(`p${i}`, p.size),
                  id,
                );
                expect(answer.status).toBe(200);
                running.push({ answer: Promise.resolve(answer), release: () => {} });
              }
              await pullNow();
            }
            for (const i of releaseOrder) {
              running[i]!.release();
              expect((await running[i]!.answer).status).toBe(200);
              await pullNow();
            }
          } finally {
            // A failed run must not leave transactions open behind it.
            for (const r of running) r.release();
            await Promise.allSettled(running.map((r) => r.answer));
          }
          await waitForFeedHorizon(server.database.db, user);
          await pullNow();
          expect([...received.keys()].sort()).toEqual((await feed(user)).map((r) => r.seq).sort());
        },
      ),
      { numRuns: 25 },
    );
  }, 180_000);
});
