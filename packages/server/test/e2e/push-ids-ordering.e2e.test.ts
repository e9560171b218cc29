import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { ENTITY_SYNC_ORDER } from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  BeforeCommitHooks,
  countRows,
  deferred,
  create,
  entityState,
  entityStates,
  failureOf,
  productCreates,
  pushOk,
  serverIdOf,
  successOf,
  syncChanges,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';

const T0 = '2024-05-01T10:00:00.000Z';

describeEachDatabase('push: sync order and id remapping', (target) => {
  const hooks = new BeforeCommitHooks();
  const server = useSharedServer(target, { testHooks: { beforeCommit: hooks.beforeCommit } });
  const db = () => server().database.db;

  it('applies changes in ENTITY_SYNC_ORDER whatever their array order, keeping the array order within a type', async () => {
    const user = uniqueUser('order');
    // Children first, and a product UPDATE before the product's own CREATE in the array.
    const changes = [
      create('ai_usage_records', 'ai1', {
        model: 'm',
        inputTokens: 1,
        outputTokens: 2,
        totalCost: 0.1,
        timestamp: T0,
      }),
      create('journal_entries', 'j1', {
        content: 'hi',
        consumptionId: 'c1',
        sessionId: 's1',
        productId: 'p1',
      }),
      create('consumptions', 'c1', { timestamp: T0, sessionId: 's1', productId: 'p1' }),
      create('purchases', 'pu1', { quantityPurchased: 1, productId: 'p1' }),
      create('inventory_items', 'i1', { quantityRemaining: 3, productId: 'p1' }),
      create('sessions', 's1', { productId: 'p1', deviceId: 'dv1' }),
      create('goals', 'g1', { name: 'goal' }),
      create('products', 'p1', { name: 'A' }),
      update('products', 'p1', 1, { name: 'B' }, 'p1-rename'),
      create('devices', 'dv1', { deviceName: 'pen' }),
    ];
    const result = await pushOk(server(), user, 'd1', changes);
    expect(result.failed).toEqual([]);
    expect(result.successful.map((s) => s.outcome)).toEqual(Array(10).fill('APPLIED'));
    // The product was created (v1) before the UPDATE listed ahead of it was applied (v2).
    expect(successOf(result, 'p1-rename').version).toBe(2);
    expect((await entityStates(db(), 'products', user))[0]).toMatchObject({
      name: 'B',
      version: 2,
    });

    const clientChanges = (await syncChanges(db(), user)).filter(
      (c) => c.origin_device_id === 'd1',
    );
    const rank = (t: string) => ENTITY_SYNC_ORDER.indexOf(t as never);
    const ranks = clientChanges.map((c) => rank(c.entity_type));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(
      clientChanges.slice(0, 2).map((c) => [c.entity_type, c.change_type, c.request_id]),
    ).toEqual([
      ['products', 'CREATE', 'c:p1'],
      ['products', 'UPDATE', 'p1-rename'],
    ]);
  });

  it('rewrites client ids to server ids in every FK field of changes in the same batch', async () => {
    const user = uniqueUser('fk');
    const result = await pushOk(server(), user, 'd1', [
      create('journal_entries', 'j1', {
        content: 'x',
        consumptionId: 'c1',
        sessionId: 's1',
        productId: 'p1',
      }),
      create('consumptions', 'c1', { timestamp: T0, sessionId: 's1', productId: 'p1' }),
      create('sessions', 's1', { productId: 'p1', deviceId: 'dv1' }),
      create('purchases', 'pu1', { quantityPurchased: 2, productId: 'p1' }),
      create('products', 'p1', { name: 'A' }),
      create('devices', 'dv1', { deviceName: 'pen' }),
    ]);
    const id = (type: Parameters<typeof serverIdOf>[1], clientId: string) =>
      serverIdOf(result, type, clientId);
    expect(await entityState(db(), 'sessions', user, id('sessions', 's1'))).toMatchObject({
      productId: id('products', 'p1'),
      deviceId: id('devices', 'dv1'),
    });
    expect(await entityState(db(), 'consumptions', user, id('consumptions', 'c1'))).toMatchObject({
      sessionId: id('sessions', 's1'),
      productId: id('products', 'p1'),
    });
    expect(
      await entityState(db(), 'journal_entries', user, id('journal_entries', 'j1')),
    ).toMatchObject({
      sessionId: id('sessions', 's1'),
      consumptionId: id('consumptions', 'c1'),
      productId: id('products', 'p1'),
    });
    expect(await entityState(db(), 'purchases', user, id('purchases', 'pu1'))).toMatchObject({
      productId: id('products', 'p1'),
    });
    expect(result.idMappings).toHaveLength(6);
  });

  it('resolves a client id mapped in an earlier batch of the same push', async () => {
    const user = uniqueUser('fk');
    // 150 products fill the first batch of 100 and part of the second; the purchase and the
    // session land in the second batch and name products mapped in the first.
    const result = await pushOk(server(), user, 'd1', [
      create('purchases', 'pu', { quantityPurchased: 1, productId: 'many-0' }),
      create('sessions', 's', { productId: 'many-99' }),
      ...productCreates('many', 150),
    ]);
    expect(result.failed).toEqual([]);
    const purchase = await entityState(
      db(),
      'purchases',
      user,
      serverIdOf(result, 'purchases', 'pu'),
    );
    expect(purchase?.productId).toBe(serverIdOf(result, 'products', 'many-0'));
    const session = await entityState(db(), 'sessions', user, serverIdOf(result, 'sessions', 's'));
    expect(session?.productId).toBe(serverIdOf(result, 'products', 'many-99'));
  });

  it("resolves client ids mapped by an earlier push of another device of the same user, in FKs and as the entity's id", async () => {
    const user = uniqueUser('fk');
    const first = await pushOk(server(), user, 'phone', [
      create('products', 'shared-p', { name: 'Tea' }),
    ]);
    const productId = serverIdOf(first, 'products', 'shared-p');

    const second = await pushOk(server(), user, 'tablet', [
      create('purchases', 'pu', { quantityPurchased: 1, productId: 'shared-p' }),
      update('products', 'shared-p', 1, { description: 'green' }, 'tablet-edit'),
    ]);
    expect(second.failed).toEqual([]);
    expect(successOf(second, 'tablet-edit')).toMatchObject({
      serverId: productId,
      entityId: 'shared-p',
      outcome: 'APPLIED',
      version: 2,
    });
    expect(
      (await entityState(db(), 'purchases', user, serverIdOf(second, 'purchases', 'pu')))
        ?.productId,
    ).toBe(productId);
    expect(await entityState(db(), 'products', user, productId)).toMatchObject({
      description: 'green',
      version: 2,
    });
  });

  it('accepts a server id in an FK field and as the entity id, in any letter case', async () => {
    const user = uniqueUser('fk');
    const productId = serverIdOf(
      await pushOk(server(), user, 'd1', [create('products', 'p', { name: 'Tea' })]),
      'products',
      'p',
    );
    const result = await pushOk(server(), user, 'd2', [
      create('purchases', 'pu', { quantityPurchased: 1, productId: productId.toUpperCase() }),
      update('products', productId.toUpperCase(), 1, { name: 'Black tea' }, 'by-server-id'),
    ]);
    expect(result.failed).toEqual([]);
    expect(successOf(result, 'by-server-id').serverId).toBe(productId);
    expect(
      (await entityState(db(), 'purchases', user, serverIdOf(result, 'purchases', 'pu')))
        ?.productId,
    ).toBe(productId);
  });

  it('a required FK naming nothing fails FK_NOT_FOUND (retryable: true); an optional one is stored as null', async () => {
    const user = uniqueUser('fk');
    const result = await pushOk(server(), user, 'd1', [
      create('purchases', 'pu', { quantityPurchased: 1, productId: 'not-synced-yet' }),
      create('inventory_items', 'inv', { quantityRemaining: 1, productId: randomUUID() }),
      create('sessions', 's', { productId: 'not-synced-yet', deviceId: randomUUID() }),
      create('consumptions', 'c', { timestamp: T0, sessionId: 'nowhere' }),
    ]);
    for (const requestId of ['c:pu', 'c:inv']) {
      const failed = failureOf(result, requestId);
      expect(failed.retryable).toBe(true);
      expect(failed.error.code).toBe('FK_NOT_FOUND');
      expect(failed.error.details?.map((d) => d.field)).toEqual(['changeData.productId']);
    }
    expect(
      await entityState(db(), 'sessions', user, serverIdOf(result, 'sessions', 's')),
    ).toMatchObject({ productId: null, deviceId: null });
    expect(
      (await entityState(db(), 'consumptions', user, serverIdOf(result, 'consumptions', 'c')))
        ?.sessionId,
    ).toBeNull();
    expect(await countRows(db(), 'purchases', user)).toBe(0);
    // Nothing of a failed change is kept: no mapping, so a later push may create it.
    expect(result.idMappings.map((m) => m.clientId).sort()).toEqual(['c', 's']);
  });

  it('an UPDATE naming no entity of the caller fails NOT_FOUND (retryable: false)', async () => {
    const user = uniqueUser('fk');
    const result = await pushOk(server(), user, 'd1', [
      update('goals', 'never-created', 1, { name: 'x' }, 'u-client'),
      update('goals', randomUUID(), 1, { name: 'x' }, 'u-uuid'),
    ]);
    for (const requestId of ['u-client', 'u-uuid']) {
      expect(failureOf(result, requestId)).toMatchObject({
        retryable: false,
        error: { code: 'NOT_FOUND' },
      });
    }
  });

  it("another user's client ids and server ids name nothing: FK_NOT_FOUND, null or NOT_FOUND", async () => {
    const [alice, mallory] = [uniqueUser('fk'), uniqueUser('fk')];
    const productId = serverIdOf(
      await pushOk(server(), alice, 'd1', [create('products', 'alice-p', { name: 'Tea' })]),
      'products',
      'alice-p',
    );
    const result = await pushOk(server(), mallory, 'd1', [
      create('purchases', 'pu1', { quantityPurchased: 1, productId: 'alice-p' }),
      create('purchases', 'pu2', { quantityPurchased: 1, productId }),
      create('sessions', 's', { productId }),
      update('products', productId, 1, { name: 'stolen' }, 'steal'),
    ]);
    expect(failureOf(result, 'c:pu1').error.code).toBe('FK_NOT_FOUND');
    expect(failureOf(result, 'c:pu2').error.code).toBe('FK_NOT_FOUND');
    expect(failureOf(result, 'steal').error.code).toBe('NOT_FOUND');
    expect(
      (await entityState(db(), 'sessions', mallory, serverIdOf(result, 'sessions', 's')))
        ?.productId,
    ).toBeNull();
    expect(await entityState(db(), 'products', alice, productId)).toMatchObject({
      name: 'Tea',
      version: 1,
    });
  });

  it('a CREATE repeated for an already-mapped client id applies nothing and answers DUPLICATE with the existing server id, from any device', async () => {
    const user = uniqueUser('dup');
    const first = await pushOk(server(), user, 'phone', [create('products', 'p', { name: 'Tea' })]);
    const productId = serverIdOf(first, 'products', 'p');

    const sameDevice = await pushOk(server(), user, 'phone', [
      create('products', 'p', { name: 'Tea again' }, 'new-request'),
    ]);
    const otherDevice = await pushOk(server(), user, 'tablet', [
      create('products', 'p', { name: 'Tea elsewhere' }),
    ]);
    for (const result of [sameDevice, otherDevice]) {
      expect(result.successful).toEqual([
        expect.objectContaining({
          outcome: 'DUPLICATE',
          serverId: productId,
          version: 1,
          changeType: 'CREATE',
          clientId: 'p',
        }),
      ]);
      expect(result.idMappings).toEqual([
        { entityType: 'products', clientId: 'p', serverId: productId },
      ]);
    }
    expect(await entityStates(db(), 'products', user)).toEqual([
      expect.objectContaining({ id: productId, name: 'Tea', version: 1 }),
    ]);
    expect(await countRows(db(), 'sync_changes', user)).toBe(1);
  });

  it('a devices CREATE matching a live device by macAddress maps to it: DUPLICATE with the existing server id and an idMappings entry', async () => {
    const user = uniqueUser('mac');
    const first = await pushOk(server(), user, 'phone', [
      create('devices', 'pen-a', { deviceName: 'Pen', macAddress: 'AA:BB', serialNumber: 'S1' }),
    ]);
    const deviceId = serverIdOf(first, 'devices', 'pen-a');

    const again = await pushOk(server(), user, 'tablet', [
      create('devices', 'pen-b', { deviceName: 'Pen', macAddress: 'AA:BB', serialNumber: 'S1' }),
    ]);
    expect(again.successful).toEqual([
      expect.objectContaining({
        requestId: 'c:pen-b',
        outcome: 'DUPLICATE',
        serverId: deviceId,
        version: 1,
      }),
    ]);
    expect(again.idMappings).toEqual([
      { entityType: 'devices', clientId: 'pen-b', serverId: deviceId },
    ]);
    expect(await countRows(db(), 'devices', user)).toBe(1);

    // The new client id is remembered: a later change may name the device by it.
    const later = await pushOk(server(), user, 'tablet', [
      create('sessions', 's', { deviceId: 'pen-b' }),
    ]);
    expect(
      (await entityState(db(), 'sessions', user, serverIdOf(later, 'sessions', 's')))?.deviceId,
    ).toBe(deviceId);
  });

  it("a devices CREATE matched by macAddress applies its LOCAL_WINS fields (deviceName, settings) and keeps the server's others: APPLIED", async () => {
    const user = uniqueUser('mac');
    const first = await pushOk(server(), user, 'phone', [
      create('devices', 'pen-a', {
        deviceName: 'Pen',
        settings: { led: 'on' },
        macAddress: 'CC:DD',
        serialNumber: 'S1',
        firmwareVersion: '1.0',
      }),
    ]);
    const deviceId = serverIdOf(first, 'devices', 'pen-a');
    const matched = await pushOk(server(), user, 'tablet', [
      create('devices', 'pen-b', {
        deviceName: 'My pen',
        settings: { led: 'off' },
        macAddress: 'CC:DD',
        serialNumber: 'S2',
        firmwareVersion: '2.0',
      }),
    ]);
    expect(matched.successful).toEqual([
      expect.objectContaining({
        outcome: 'APPLIED',
        serverId: deviceId,
        version: 2,
        changeType: 'CREATE',
      }),
    ]);
    expect(matched.idMappings).toEqual([
      { entityType: 'devices', clientId: 'pen-b', serverId: deviceId },
    ]);
    expect(await entityStates(db(), 'devices', user)).toEqual([
      expect.objectContaining({
        id: deviceId,
        deviceName: 'My pen',
        settings: { led: 'off' },
        macAddress: 'CC:DD',
        serialNumber: 'S1',
        firmwareVersion: '1.0',
        version: 2,
      }),
    ]);
  });

  it('two devices CREATEs with one macAddress in the same push become one device', async () => {
    const user = uniqueUser('mac');
    const result = await pushOk(server(), user, 'phone', [
      create('devices', 'x1', { deviceName: 'Pen', macAddress: 'EE:FF' }),
      create('devices', 'x2', { deviceName: 'Pen', macAddress: 'EE:FF' }),
    ]);
    expect(serverIdOf(result, 'devices', 'x1')).toBe(serverIdOf(result, 'devices', 'x2'));
    expect(result.successful.map((s) => s.outcome)).toEqual(['APPLIED', 'DUPLICATE']);
    expect(await countRows(db(), 'devices', user)).toBe(1);
  });

  it('two devices of one user registering the same macAddress at the same moment get one device', async () => {
    const user = uniqueUser('mac');
    const heldOp = randomUUID();
    const reached = deferred();
    const release = deferred();
    hooks.on(heldOp, async () => {
      reached.resolve();
      await release.promise;
    });
    const phone = pushOk(
      server(),
      user,
      'phone',
      [create('devices', 'from-phone', { deviceName: 'Pen', macAddress: '99:99' })],
      {
        syncOperationId: heldOp,
      },
    );
    await reached.promise;
    // The phone's device is written but not committed when the tablet registers the same one.
    const tablet = pushOk(server(), user, 'tablet', [
      create('devices', 'from-tablet', { deviceName: 'Pen', macAddress: '99:99' }),
    ]);
    setTimeout(() => release.resolve(), 300);
    const [a, b] = await Promise.all([phone, tablet]);
    expect(serverIdOf(b, 'devices', 'from-tablet')).toBe(serverIdOf(a, 'devices', 'from-phone'));
    expect(b.successful[0]?.outcome).toBe('DUPLICATE');
    expect(await countRows(db(), 'devices', user)).toBe(1);
  });

  it("a tombstoned device or another user's device with the same macAddress is not matched", async () => {
    const [user, other] = [uniqueUser('mac'), uniqueUser('mac')];
    await pushOk(server(), other, 'phone', [create('devices', 'theirs', { macAddress: '11:22' })]);
    const first = await pushOk(server(), user, 'phone', [
      create('devices', 'old', { macAddress: '11:22' }),
    ]);
    await pushOk(server(), user, 'phone', [
      {
        requestId: 'del',
        entityType: 'devices',
        entityId: 'old',
        changeType: 'DELETE',
        syncVersion: 1,
      },
    ]);
    const again = await pushOk(server(), user, 'phone', [
      create('devices', 'new', { macAddress: '11:22' }),
    ]);
    expect(again.successful[0]?.outcome).toBe('APPLIED');
    expect(serverIdOf(again, 'devices', 'new')).not.toBe(serverIdOf(first, 'devices', 'old'));
    expect(await countRows(db(), 'devices', user)).toBe(2);
  });
});

describeEachDatabase(
  'push: isPublic is only honoured for the catalog user (CATALOG_USER_ID)',
  (target) => {
    const server = useSharedServer(target, { env: { CATALOG_USER_ID: 'shop-catalog' } });
    const db = () => server().database.db;

    it('a non-catalog user sending isPublic: true gets false, on CREATE and on UPDATE', async () => {
      for (const user of [uniqueUser('pub'), 'catalog']) {
        const created = await pushOk(server(), user, 'd1', [
          create('products', 'p', { name: 'Tea', isPublic: true }),
        ]);
        expect(created.failed).toEqual([]);
        const productId = serverIdOf(created, 'products', 'p');
        expect((await entityState(db(), 'products', user, productId))?.isPublic).toBe(false);
        await pushOk(server(), user, 'd1', [update('products', productId, 1, { isPublic: true })]);
        expect((await entityState(db(), 'products', user, productId))?.isPublic).toBe(false);
      }
    });

    it('the user named by CATALOG_USER_ID may make a product public', async () => {
      const created = await pushOk(server(), 'shop-catalog', 'd1', [
        create('products', `p-${randomUUID()}`, { name: 'Public tea', isPublic: true }),
      ]);
      expect(
        await entityState(db(), 'products', 'shop-catalog', created.successful[0]!.serverId),
      ).toMatchObject({ isPublic: true });
    });
  },
);
