import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeEachDatabase,
  startTestServer,
  type TestServer,
} from '@sync-engine/server/testing';
import { ENTITY_CONFLICT_CONFIG, applySyncConfig, parseSyncConfig } from '@sync-engine/shared';
import { divergence, openDevice, syncUntilQuiet, E2E_TIMEOUT_MS } from './devices.ts';

/*
 * With goals configured MANUAL (SYNC_CONFIG), a stale edit is not applied: the device
 * keeps the conflict visible to the app, shows the server's state meanwhile, and resolves
 * it through the client, after which every device converges on the decision.
 */

describeEachDatabase('MANUAL conflicts through the client', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    const parsed = parseSyncConfig({ entities: { goals: { defaultStrategy: 'MANUAL' } } });
    if (!parsed.ok) throw new Error(parsed.message);
    server = await startTestServer({
      target,
      conflictConfig: applySyncConfig(ENTITY_CONFLICT_CONFIG, parsed.config),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it(
    'keeps a MANUAL_REQUIRED conflict for the app until it resolves it; then all devices agree',
    { timeout: E2E_TIMEOUT_MS },
    async () => {
      const user = 'manual';
      const phone = openDevice(server, user, 'phone');
      const laptop = openDevice(server, user, 'laptop');
      const goal = await phone.create('goals', { name: 'Read', targetValue: 10, currentValue: 1 });
      await syncUntilQuiet(server, user, [phone, laptop]);
      const id = (await phone.get('goals', goal.id))?.id ?? '';

      await laptop.update('goals', id, { currentValue: 6 });
      await phone.update('goals', id, { currentValue: 3, name: 'Read daily' });
      await laptop.sync();
      const report = await phone.sync();
      expect(report.push.manualConflicts).toBe(1);

      const [conflict] = await phone.conflicts();
      expect(conflict).toMatchObject({
        entityType: 'goals',
        entityId: id,
        localChange: { currentValue: 3, name: 'Read daily' },
        serverVersion: 2,
      });
      // Meanwhile the phone shows what the server holds; its edit waits in the conflict.
      expect((await phone.get('goals', id))?.data).toMatchObject({ currentValue: 6, name: 'Read' });
      expect(await phone.pendingChanges()).toEqual([]);

      const resolved = await phone.resolveConflict(conflict?.conflictId ?? '', 'LOCAL_WINS');
      expect(resolved.failed).toEqual([]);
      expect(await phone.conflicts()).toEqual([]);
      expect((await phone.get('goals', id))?.data).toMatchObject({
        currentValue: 3,
        name: 'Read daily',
      });

      await syncUntilQuiet(server, user, [phone, laptop]);
      expect(await divergence(server, user, [phone, laptop])).toEqual([]);
      expect((await laptop.get('goals', id))?.data).toMatchObject({
        currentValue: 3,
        name: 'Read daily',
      });

      // Resolving it again: the server says it is settled, and the client forgets it.
      const again = await phone.resolveConflict(conflict?.conflictId ?? '', 'REMOTE_WINS');
      expect(again.failed.map((f) => f.error.code)).toEqual(['CONFLICT_ALREADY_RESOLVED']);
      await phone.close();
      await laptop.close();
    },
  );
});
