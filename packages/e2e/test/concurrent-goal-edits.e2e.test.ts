import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeEachDatabase,
  startTestServer,
  type TestServer,
} from '@sync-engine/server/testing';
import { ConflictListResultSchema } from '@sync-engine/shared';
import {
  divergence,
  openDevice,
  serverStateOf,
  syncUntilQuiet,
  E2E_TIMEOUT_MS,
} from './devices.ts';

/*
 * Scenario (b): three devices edit one goal while offline, then sync one after another.
 * The contract's goal policies decide: currentValue MAX_VALUE, name LOCAL_WINS (the last
 * stale writer's name), status LAST_WRITE_WINS (by the edit's time against the server's).
 * Device clocks are fixed so LAST_WRITE_WINS has one right answer.
 */

describeEachDatabase('three devices editing one goal concurrently', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ target });
  });
  afterAll(async () => {
    await server.close();
  });

  it(
    'resolves each field by its policy and every device converges on the result',
    { timeout: E2E_TIMEOUT_MS },
    async () => {
      const user = 'goal-editor';
      const clock = (iso: string) => () => new Date(iso);
      const a = openDevice(server, user, 'device-a');
      // B's clock runs ahead of the server's, C's far behind.
      const b = openDevice(server, user, 'device-b', { now: clock('2999-01-01T00:00:00Z') });
      const c = openDevice(server, user, 'device-c', { now: clock('2001-01-01T00:00:00Z') });

      const goal = await a.create('goals', { name: 'Read', targetValue: 10, currentValue: 0 });
      await a.sync();
      await syncUntilQuiet(server, user, [a, b, c]);
      const serverId = (await a.get('goals', goal.id))?.id;
      if (serverId === undefined) throw new Error('the goal was not mapped');
      for (const device of [b, c]) expect((await device.get('goals', serverId))?.version).toBe(1);

      // Offline, all three edit version 1.
      await a.update('goals', serverId, { currentValue: 7, name: 'Read more' });
      await b.update('goals', serverId, { currentValue: 4, status: 'ACHIEVED' });
      await c.update('goals', serverId, {
        currentValue: 5,
        name: 'Read less',
        status: 'ABANDONED',
      });

      const first = await a.sync();
      expect(first.push).toMatchObject({ applied: 1, conflicts: 0 });
      const second = await b.sync();
      const third = await c.sync();
      expect(second.push.conflicts).toBe(1);
      expect(third.push.conflicts).toBe(1);
      // A conflict answer is adopted at once: B and C already show the merged state.
      expect((await c.get('goals', serverId))?.data).toMatchObject({
        currentValue: 7,
        name: 'Read less',
        status: 'ACHIEVED',
      });

      await syncUntilQuiet(server, user, [a, b, c]);
      const state = await serverStateOf(server, user);
      expect(state.get('goals')?.get(serverId)).toMatchObject({
        currentValue: 7, // MAX_VALUE over 7, 4, 5
        name: 'Read less', // LOCAL_WINS: C's stale edit came last
        status: 'ACHIEVED', // LAST_WRITE_WINS: B's edit is newer than the server's state, C's older
        targetValue: 10,
      });
      expect(await divergence(server, user, [a, b, c])).toEqual([]);

      // Both conflicts were recorded and auto-resolved.
      const listed = await server.request('GET', '/api/v1/sync/conflicts', { user });
      const conflicts = ConflictListResultSchema.parse(listed.body).conflicts;
      expect(conflicts.map((x) => [x.entityId, x.status, x.resolution])).toEqual([
        [serverId, 'RESOLVED', 'AUTO'],
        [serverId, 'RESOLVED', 'AUTO'],
      ]);
      for (const device of [a, b, c]) {
        expect(await device.conflicts()).toEqual([]);
        await device.close();
      }
    },
  );
});
