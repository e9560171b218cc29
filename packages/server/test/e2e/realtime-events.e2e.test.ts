import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { SyncWsEvent } from '@sync-engine/shared';
import { MANUAL_GOALS, makeGoalConflict, resolveConflicts } from '../support/conflict-fixtures.ts';
import {
  describeEachCoordinationStore,
  useCoordinatedServer,
} from '../support/coordination-fixtures.ts';
import { create, pushOk, uniqueUser } from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import { openSocket } from '../support/ws-client.ts';

const isType =
  (type: SyncWsEvent['type']) =>
  (e: SyncWsEvent): boolean =>
    e.type === type;

describeEachDatabase('GET /sync/ws', (target) => {
  describeEachCoordinationStore('realtime events', (store) => {
    const server = useCoordinatedServer(target, store, { conflictConfig: MANUAL_GOALS });

    it("sends a push's events only to its user's sockets; sync:changes skips the pushing device", async () => {
      const user = uniqueUser('ws');
      const other = uniqueUser('ws-other');
      const token = await server().token(user);
      await using pusher = await openSocket(server().url, { token, deviceId: 'dev-1' });
      await using sibling = await openSocket(server().url, {
        token,
        deviceId: 'dev-2',
        via: 'header',
      });
      await using anyDevice = await openSocket(server().url, { token });
      await using stranger = await openSocket(server().url, {
        token: await server().token(other),
        deviceId: 'dev-1',
      });

      const syncOperationId = crypto.randomUUID();
      await pushOk(
        server(),
        user,
        'dev-1',
        [
          create('products', 'p1', { name: 'Tea' }),
          {
            requestId: 'bad',
            entityType: 'goals',
            entityId: 'x',
            changeType: 'UPDATE',
            changeData: {},
            syncVersion: 0,
          },
        ],
        { syncOperationId },
      );

      const completed = {
        type: 'sync:push:completed',
        data: { syncOperationId, deviceId: 'dev-1', successful: 1, failed: 1, conflicts: 0 },
      };
      const changes = { type: 'sync:changes', data: { entityTypes: ['products'] } };
      for (const socket of [pusher, sibling, anyDevice])
        expect(await socket.next(isType('sync:push:completed'))).toEqual(completed);
      for (const socket of [sibling, anyDevice])
        expect(await socket.next(isType('sync:changes'))).toEqual(changes);
      await sleep(200);
      expect(pusher.events.filter(isType('sync:changes'))).toEqual([]);
      expect(stranger.events).toEqual([]);
    });

    it('announces resolved conflicts, and their changes, to every socket of the user', async () => {
      const user = uniqueUser('ws-resolve');
      const { conflictId } = await makeGoalConflict(server(), user);
      const token = await server().token(user);
      await using dev1 = await openSocket(server().url, { token, deviceId: 'dev-1' });
      await using dev2 = await openSocket(server().url, { token, deviceId: 'dev-2' });
      await resolveConflicts(server(), user, [{ conflictId, strategy: 'LOCAL_WINS' }]);
      for (const socket of [dev1, dev2]) {
        expect(await socket.next(isType('sync:conflicts:resolved'))).toEqual({
          type: 'sync:conflicts:resolved',
          data: { conflictIds: [conflictId] },
        });
        expect(await socket.next(isType('sync:changes'))).toEqual({
          type: 'sync:changes',
          data: { entityTypes: ['goals'] },
        });
      }
    });

    it('refuses the upgrade with 401 for a missing, malformed or wrongly signed token', async () => {
      const forged = `${(await server().token('someone')).slice(0, -3)}abc`;
      for (const token of ['', 'not-a-jwt', forged]) {
        await expect(openSocket(server().url, { token })).rejects.toMatchObject({ status: 401 });
      }
    });

    it('closes an open socket when its token expires', async () => {
      const token = await server().tokens.issue(uniqueUser('ws-expiring'), { ttlSeconds: 2 });
      const socket = await openSocket(server().url, { token });
      expect(await socket.closed).toBe(4401);
      await expect(openSocket(server().url, { token })).rejects.toMatchObject({ status: 401 });
    });

    it('closes a socket opened with an invalid deviceId', async () => {
      const socket = await openSocket(server().url, {
        token: await server().token(uniqueUser('ws-bad')),
        deviceId: 'd'.repeat(200),
      });
      expect(await socket.closed).toBe(1008);
    });
  });
});
