import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { requestFingerprint } from '../../src/sync/sync-operations.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  BeforeCommitHooks,
  countRows,
  deferred,
  lockRow,
  operationRow,
  productCreates,
  push,
  pushBody,
  pushOk,
  uniqueUser,
  useSharedServer,
} from '../support/push-fixtures.ts';

const STALE_MS = 1000;

describeEachDatabase('push: per user+device lock, heartbeat, takeover and fencing', (target) => {
  const hooks = new BeforeCommitHooks();
  const server = useSharedServer(target, {
    env: { SYNC_LOCK_STALE_MS: String(STALE_MS) },
    testHooks: { beforeCommit: hooks.beforeCommit },
  });
  const db = () => server().database.db;

  it('a second push of the same user+device while one runs is 409 SYNC_IN_PROGRESS with Retry-After and applies nothing', async () => {
    const user = uniqueUser('lock');
    const longOp = randomUUID();
    const started = deferred();
    const release = deferred();
    hooks.on(longOp, async (batch) => {
      started.resolve();
      // PostgreSQL: the first batch stays open until the second push is answered. PGlite has
      // one connection, so the second push can only run between two batches of the first.
      if (target.driver === 'postgres' && batch === 1) await release.promise;
      else await sleep(150);
    });
    let longDone = false;
    const long = push(server(), user, 'phone', productCreates('long', 500), {
      syncOperationId: longOp,
    }).finally(() => (longDone = true));
    await started.promise;

    const second = await push(server(), user, 'phone', productCreates('second', 3));
    release.resolve();
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: 'SYNC_IN_PROGRESS' } });
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(longDone).toBe(false);

    const first = await long;
    expect(first.status).toBe(200);
    expect(first.body.successful).toHaveLength(500);
    expect(await countRows(db(), 'products', user)).toBe(500);

    // The lock is free again: the refused push goes through now.
    expect((await push(server(), user, 'phone', productCreates('second', 3))).status).toBe(200);
  });

  it('the lock is per device: another device of the same user pushes while the first one holds its lock', async () => {
    const user = uniqueUser('lock');
    const heldOp = randomUUID();
    const reached = deferred();
    const release = deferred();
    hooks.on(heldOp, async () => {
      reached.resolve();
      await release.promise;
    });
    const held = push(server(), user, 'phone', productCreates('held', 2), {
      syncOperationId: heldOp,
    });
    await reached.promise;
    const other = push(server(), user, 'tablet', productCreates('other', 2));
    if (target.driver === 'postgres') {
      // A real server runs both at once: the tablet's push completes while the phone's is held.
      expect((await other).status).toBe(200);
      release.resolve();
    } else {
      release.resolve();
      expect((await other).status).toBe(200);
    }
    expect((await held).status).toBe(200);
    expect(await countRows(db(), 'products', user)).toBe(4);
  });

  it('a long push heartbeats its lock and its operation, so past the stale timeout it is neither taken over nor interrupted', async () => {
    const user = uniqueUser('beat');
    const op = randomUUID();
    const started = deferred();
    hooks.on(op, async () => {
      started.resolve();
      await sleep(350);
    });
    let done = false;
    const long = push(server(), user, 'phone', productCreates('beat', 600), {
      syncOperationId: op,
    }).finally(() => (done = true));
    await started.promise;
    const t0 = Date.now();

    const samples: { alive: boolean; heartbeat: number; status: string }[] = [];
    let intruder: Awaited<ReturnType<typeof push>> | undefined;
    while (!done) {
      const { rows } = await sql<{ alive: boolean; heartbeat_at: Date; status: string }>`
        select s.lock_owner is not null and s.lock_expires_at > now() as alive, o.heartbeat_at, o.status
        from sync_states s join sync_operations o on o.user_id = s.user_id and o.sync_operation_id = ${op}
        where s.user_id = ${user} and s.device_id = 'phone'`.execute(db());
      if (!done && rows[0])
        samples.push({
          alive: rows[0].alive,
          heartbeat: rows[0].heartbeat_at.getTime(),
          status: rows[0].status,
        });
      if (intruder === undefined && Date.now() - t0 > STALE_MS * 1.5 && !done) {
        intruder = await push(server(), user, 'phone', productCreates('intruder', 1));
      }
      await sleep(100);
    }
    const answer = await long;
    expect(Date.now() - t0).toBeGreaterThan(STALE_MS * 1.5);
    expect(answer.status).toBe(200);
    expect(answer.body.successful.filter((s) => s.outcome === 'APPLIED')).toHaveLength(600);
    // Past the stale timeout, the lock was still live: another push was refused, not let in.
    expect(intruder?.status).toBe(409);
    // The push commits its answer and frees the lock before its HTTP answer arrives here, so
    // the last samples may see it already COMPLETED; every sample taken while it ran must see
    // the lock live.
    const running = samples.filter((s) => s.status === 'IN_PROGRESS');
    expect(samples.slice(0, running.length)).toEqual(running);
    expect(samples.slice(running.length).every((s) => s.status === 'COMPLETED')).toBe(true);
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect(running.every((s) => s.alive)).toBe(true);
    const beats = new Set(running.map((s) => s.heartbeat));
    expect(beats.size).toBeGreaterThanOrEqual(3);

    expect(await operationRow(db(), user, op)).toMatchObject({
      status: 'COMPLETED',
      http_status: 200,
    });
    const lock = await lockRow(db(), user, 'phone');
    expect(lock?.lock_owner).toBeNull();
    expect(lock?.last_sync_at).toBeInstanceOf(Date);
    expect(await countRows(db(), 'products', user)).toBe(600);
  });

  it('a long push yields between its batches, so heartbeats and other requests run before it ends (embedded PGlite too)', async () => {
    const user = uniqueUser('yield');
    const op = randomUUID();
    const started = deferred();
    hooks.on(op, async () => started.resolve());
    let pushDone = false;
    const long = push(server(), user, 'phone', productCreates('y', 1000), {
      syncOperationId: op,
    }).finally(() => (pushDone = true));
    await started.promise;
    // PGlite answers queries without yielding to the event loop: without a yield between
    // batches this request would only be served once all ten batches are done.
    const health = await server().request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(pushDone).toBe(false);
    expect(hooks.batches(op)).toBeLessThan(10);
    expect((await long).status).toBe(200);
  });

  it('a lock and an IN_PROGRESS operation left by a crashed worker are taken over once stale; the retry applies each change exactly once', async () => {
    const user = uniqueUser('crash');
    const op = randomUUID();
    const changes = productCreates('crash', 150);
    const body = pushBody('phone', changes, op);

    // The crashed worker: it claimed the operation, applied the first 100 changes, then died
    // holding the lock (nobody heartbeats it any more).
    expect((await push(server(), user, 'phone', changes.slice(0, 100))).status).toBe(200);
    await sql`
      insert into sync_operations (user_id, sync_operation_id, device_id, status, request_fingerprint, lock_token, heartbeat_at)
      values (${user}, ${op}, 'phone', 'IN_PROGRESS', ${requestFingerprint('push', body)}, 99, now())`.execute(
      db(),
    );
    await sql`
      update sync_states set lock_owner = 'crashed-worker', fencing_token = fencing_token + 1,
        lock_expires_at = now() + make_interval(secs => ${STALE_MS / 1000})
      where user_id = ${user} and device_id = 'phone'`.execute(db());

    const early = await server().request<{ error: { code: string } }>('POST', '/api/v1/sync/push', {
      user,
      body,
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('SYNC_IN_PROGRESS');
    expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    await sleep(STALE_MS + 100);
    const result = await pushOk(server(), user, 'phone', changes, { syncOperationId: op });
    expect(result.successful.slice(0, 100).every((s) => s.outcome === 'DUPLICATE')).toBe(true);
    expect(result.successful.slice(100).every((s) => s.outcome === 'APPLIED')).toBe(true);
    expect(result.idMappings).toHaveLength(150);
    expect(await countRows(db(), 'products', user)).toBe(150);
    expect(await countRows(db(), 'sync_changes', user)).toBe(150);
    expect(await operationRow(db(), user, op)).toMatchObject({
      status: 'COMPLETED',
      http_status: 200,
    });
  });

  it('the fencing token is checked inside each write transaction: a holder whose lock was taken over mid-push writes nothing after the takeover', async () => {
    const user = uniqueUser('fence');
    const op = randomUUID();
    let takeover: Promise<unknown> | undefined;
    let takenOver = false;
    hooks.on(op, async (batch) => {
      if (batch !== 1) return;
      // Another worker takes the lock over while this one's first batch is still open.
      takeover = sql`
        update sync_states set lock_owner = 'usurper', fencing_token = fencing_token + 1,
          lock_expires_at = now() + interval '1 hour'
        where user_id = ${user} and device_id = 'phone'`
        .execute(db())
        .then(() => (takenOver = true));
      await sleep(300);
      // The open write transaction holds the lock row: the takeover waits for its commit.
      expect(takenOver).toBe(false);
    });
    const answer = await push(server(), user, 'phone', productCreates('fence', 300), {
      syncOperationId: op,
    });
    await takeover;

    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: 'SYNC_IN_PROGRESS' } });
    // Batch 1 committed before the takeover; batches 2 and 3 found the token changed and wrote nothing.
    expect(hooks.batches(op)).toBe(1);
    expect(await countRows(db(), 'products', user)).toBe(100);
    expect(await countRows(db(), 'sync_changes', user)).toBe(100);
    expect(await countRows(db(), 'id_mappings', user)).toBe(100);
    expect((await operationRow(db(), user, op))?.status).toBe('FAILED');
    // The fenced-off holder did not release the usurper's lock either.
    expect((await lockRow(db(), user, 'phone'))?.lock_owner).toBe('usurper');

    // Once the usurper is gone, the client's retry of the same operation finishes the push.
    await sql`update sync_states set lock_owner = null, lock_expires_at = null where user_id = ${user}`.execute(
      db(),
    );
    const retry = await pushOk(server(), user, 'phone', productCreates('fence', 300), {
      syncOperationId: op,
    });
    expect(retry.successful.filter((s) => s.outcome === 'DUPLICATE')).toHaveLength(100);
    expect(retry.successful.filter((s) => s.outcome === 'APPLIED')).toHaveLength(200);
    expect(await countRows(db(), 'products', user)).toBe(300);
    expect(await countRows(db(), 'sync_changes', user)).toBe(300);
  });

  it('each takeover raises the fencing token', async () => {
    const user = uniqueUser('token');
    await pushOk(server(), user, 'phone', productCreates('a', 1));
    const first = BigInt((await lockRow(db(), user, 'phone'))!.fencing_token);
    await pushOk(server(), user, 'phone', productCreates('b', 1));
    await pushOk(server(), user, 'phone', productCreates('c', 1));
    expect(BigInt((await lockRow(db(), user, 'phone'))!.fencing_token)).toBe(first + 2n);
  });
});
