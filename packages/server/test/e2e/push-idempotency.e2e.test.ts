import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { PushResult } from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  countRows,
  create,
  entityStates,
  expectPushResult,
  operationRow,
  productCreates,
  push,
  pushBody,
  pushOk,
  remove,
  successOf,
  syncChanges,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';

const PUSH = '/api/v1/sync/push';

describeEachDatabase('push: idempotency', (target) => {
  const server = useSharedServer(target);
  const db = () => server().database.db;

  it('replaying a completed syncOperationId answers the stored result with Idempotent-Replayed: true and the original 200, applying nothing', async () => {
    const user = uniqueUser('idem');
    const syncOperationId = randomUUID();
    const first = await push(server(), user, 'd1', productCreates('p', 3), { syncOperationId });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const again = await push(server(), user, 'd1', productCreates('p', 3), { syncOperationId });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await countRows(db(), 'products', user)).toBe(3);
    expect(await countRows(db(), 'sync_changes', user)).toBe(3);
  });

  it('replaying a completed syncOperationId whose answer was a 207 answers 207 again with the same body', async () => {
    const user = uniqueUser('idem');
    const syncOperationId = randomUUID();
    const changes = [
      create('products', 'ok', { name: 'ok' }),
      create('products', 'bad', { name: '' }),
    ];
    const first = await push(server(), user, 'd1', changes, { syncOperationId });
    expect(first.status).toBe(207);
    expect(first.body.failed).toHaveLength(1);

    const again = await push(server(), user, 'd1', changes, { syncOperationId });
    expect(again.status).toBe(207);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await countRows(db(), 'sync_changes', user)).toBe(1);
  });

  it('a replay is recognised when the client serialises the same body with its keys in another order', async () => {
    const user = uniqueUser('idem');
    const body = pushBody('d1', productCreates('k', 2));
    const first = await server().request<PushResult>('POST', PUSH, { user, body });
    const reordered = {
      changes: body.changes.map((c) => Object.fromEntries(Object.entries(c).reverse())),
      deviceId: body.deviceId,
      syncOperationId: body.syncOperationId,
    };
    const again = await server().request<PushResult>('POST', PUSH, { user, body: reordered });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('the same syncOperationId with another body is 422 IDEMPOTENCY_KEY_REUSED and applies nothing', async () => {
    const user = uniqueUser('idem');
    const syncOperationId = randomUUID();
    expect(
      (await push(server(), user, 'd1', productCreates('a', 1), { syncOperationId })).status,
    ).toBe(200);

    const otherChanges = await push(server(), user, 'd1', productCreates('b', 1), {
      syncOperationId,
    });
    expect(otherChanges.status).toBe(422);
    expect(otherChanges.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    const otherDevice = await push(server(), user, 'd2', productCreates('a', 1), {
      syncOperationId,
    });
    expect(otherDevice.status).toBe(422);
    expect(otherDevice.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });

    expect(await countRows(db(), 'products', user)).toBe(1);
    expect((await operationRow(db(), user, syncOperationId))?.status).toBe('COMPLETED');
  });

  it('a syncOperationId is unique per user: another user may use the same id for its own push', async () => {
    const [alice, bob] = [uniqueUser('idem'), uniqueUser('idem')];
    const syncOperationId = randomUUID();
    expect(
      (await push(server(), alice, 'd1', productCreates('a', 1), { syncOperationId })).status,
    ).toBe(200);
    const other = await push(server(), bob, 'd1', productCreates('b', 2), { syncOperationId });
    expect(other.status).toBe(200);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.body.successful).toHaveLength(2);
  });

  it('every push leaves a SyncOperation record: COMPLETED with its device, HTTP status and stored answer', async () => {
    const user = uniqueUser('idem');
    const ok = randomUUID();
    const partial = randomUUID();
    const okAnswer = await pushOk(server(), user, 'phone', productCreates('s', 1), {
      syncOperationId: ok,
    });
    const partialAnswer = await pushOk(
      server(),
      user,
      'phone',
      [create('goals', 'g', { name: 'x', bogus: 1 })],
      { syncOperationId: partial },
    );

    const okRow = await operationRow(db(), user, ok);
    expect(okRow).toMatchObject({
      status: 'COMPLETED',
      device_id: 'phone',
      http_status: 200,
      result_payload: okAnswer,
    });
    expect(okRow?.completed_at).toBeInstanceOf(Date);
    expect(await operationRow(db(), user, partial)).toMatchObject({
      status: 'COMPLETED',
      http_status: 207,
      result_payload: partialAnswer,
    });
  });

  it('a CREATE resent under a new syncOperationId (the answer was lost) is DUPLICATE with the same server id and its idMappings entry', async () => {
    const user = uniqueUser('idem');
    const changes = productCreates('lost', 3);
    const first = await pushOk(server(), user, 'd1', changes);
    const again = await pushOk(server(), user, 'd1', changes);
    expect(again.successful.map((s) => [s.requestId, s.outcome, s.serverId, s.version])).toEqual(
      first.successful.map((s) => [s.requestId, 'DUPLICATE', s.serverId, 1]),
    );
    expect(again.idMappings).toEqual(first.idMappings);
    expect(await countRows(db(), 'products', user)).toBe(3);
    expect(await countRows(db(), 'sync_changes', user)).toBe(3);
  });

  it('an UPDATE or DELETE whose requestId this device already applied is DUPLICATE, never applied twice nor a conflict', async () => {
    const user = uniqueUser('idem');
    const created = await pushOk(server(), user, 'd1', [
      create('goals', 'g1', { name: 'a', currentValue: 1 }),
      create('goals', 'g2', { name: 'b' }),
    ]);
    const g1 = successOf(created, 'c:g1').serverId;
    const edit = update('goals', 'g1', 1, { currentValue: 5 }, 'edit-1');
    const drop = remove('goals', 'g2', 1, 'drop-1');
    const applied = await pushOk(server(), user, 'd1', [edit, drop]);
    expect(applied.successful.map((s) => [s.requestId, s.outcome, s.version])).toEqual([
      ['edit-1', 'APPLIED', 2],
      ['drop-1', 'APPLIED', 2],
    ]);

    // Resent in a later push (its syncVersion 1 is stale by now): recognised by requestId.
    const resent = await pushOk(server(), user, 'd1', [edit, drop]);
    expect(resent.conflicts).toEqual([]);
    expect(resent.successful.map((s) => [s.requestId, s.outcome, s.serverId, s.version])).toEqual([
      ['edit-1', 'DUPLICATE', g1, 2],
      ['drop-1', 'DUPLICATE', successOf(created, 'c:g2').serverId, 2],
    ]);
    const goals = await entityStates(db(), 'goals', user);
    expect(goals.map((g) => g.version)).toEqual([2, 2]);
    expect(await countRows(db(), 'sync_changes', user)).toBe(4);
    expect(await countRows(db(), 'sync_conflicts', user)).toBe(0);
  });

  it('the same requestId twice in one push is applied once, the second reported DUPLICATE', async () => {
    const user = uniqueUser('idem');
    const created = await pushOk(server(), user, 'd1', [
      create('goals', 'g', { name: 'a', currentValue: 1 }),
    ]);
    const edit = update('goals', 'g', 1, { currentValue: 2 }, 'twice');
    const result = await pushOk(server(), user, 'd1', [edit, edit]);
    expect(result.successful.map((s) => [s.outcome, s.version])).toEqual([
      ['APPLIED', 2],
      ['DUPLICATE', 2],
    ]);
    expect(
      (await syncChanges(db(), user)).filter(
        (c) => c.entity_id === successOf(created, 'c:g').serverId,
      ),
    ).toHaveLength(2);
  });

  it('a requestId is remembered per device: another device may use the same requestId for its own change', async () => {
    const user = uniqueUser('idem');
    await pushOk(server(), user, 'd1', [create('goals', 'g', { name: 'a', currentValue: 1 })]);
    const one = await pushOk(server(), user, 'd1', [
      update('goals', 'g', 1, { name: 'from d1' }, 'same-id'),
    ]);
    const two = await pushOk(server(), user, 'd2', [
      update('goals', 'g', 2, { name: 'from d2' }, 'same-id'),
    ]);
    expect(one.successful[0]?.outcome).toBe('APPLIED');
    expect(two.successful[0]).toMatchObject({ outcome: 'APPLIED', version: 3 });
    expect((await entityStates(db(), 'goals', user))[0]).toMatchObject({
      name: 'from d2',
      version: 3,
    });
  });

  it('the stored answer of a replay still passes the shared PushResultSchema', async () => {
    const user = uniqueUser('idem');
    const syncOperationId = randomUUID();
    await push(server(), user, 'd1', [create('products', 'x', { name: 'x' })], { syncOperationId });
    const again = await server().request('POST', PUSH, {
      user,
      body: pushBody('d1', [create('products', 'x', { name: 'x' })], syncOperationId),
    });
    expectPushResult(again);
  });
});
