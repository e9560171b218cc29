import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { PullResult, PushResult } from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import { startTestServer } from '../support/test-server.ts';
import { waitForFeedHorizon } from '../support/sync-client.ts';

describeEachDatabase('pull basics', (target) => {
  it('a change pushed by one device is pulled by another with its latest state, then 304 on the same ETag', async () => {
    await using server = await startTestServer({ target });
    const push = await server.request<PushResult>('POST', '/api/v1/sync/push', {
      user: 'u1',
      body: {
        syncOperationId: randomUUID(),
        deviceId: 'phone',
        changes: [
          {
            requestId: 'r1',
            entityType: 'products',
            entityId: 'p-local',
            changeType: 'CREATE',
            changeData: { name: 'Tea' },
            syncVersion: 0,
          },
          {
            requestId: 'r2',
            entityType: 'products',
            entityId: 'p-local',
            changeType: 'UPDATE',
            changeData: { name: 'Green tea' },
            syncVersion: 1,
          },
        ],
      },
    });
    expect(push.status).toBe(200);
    // Another test's open transaction on the same PostgreSQL server may hold the horizon back briefly.
    await waitForFeedHorizon(server.database.db, 'u1');
    const serverId = push.body.successful[0]!.serverId;

    const own = await server.request<PullResult>('GET', '/api/v1/sync/changes?deviceId=phone', {
      user: 'u1',
    });
    expect(own.body.changes).toHaveLength(0);

    const pulled = await server.request<PullResult>('GET', '/api/v1/sync/changes?deviceId=tablet', {
      user: 'u1',
    });
    expect(pulled.status).toBe(200);
    expect(pulled.body.changes.map((c) => [c.changeType, c.entityId, c.version])).toEqual([
      ['CREATE', serverId, 1],
      ['UPDATE', serverId, 2],
    ]);
    expect(pulled.body.changes[0]!.data).toMatchObject({
      id: serverId,
      name: 'Green tea',
      version: 2,
      userId: 'u1',
    });
    expect(pulled.body.hasMore).toBe(false);

    const etag = pulled.headers.get('etag')!;
    const again = await server.request('GET', '/api/v1/sync/changes?deviceId=tablet', {
      user: 'u1',
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);

    const other = await server.request<PullResult>('GET', '/api/v1/sync/changes', { user: 'u2' });
    expect(other.body.changes).toHaveLength(0);
    const foreign = await server.request(
      'GET',
      `/api/v1/sync/changes?cursor=${encodeURIComponent(pulled.body.cursor)}`,
      { user: 'u2' },
    );
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ error: { code: 'INVALID_CURSOR' } });

    const next = await server.request<PullResult>(
      'GET',
      `/api/v1/sync/changes?deviceId=tablet&cursor=${encodeURIComponent(pulled.body.cursor)}`,
      { user: 'u1' },
    );
    expect(next.body.changes).toHaveLength(0);
    const status = await server.request<{ pendingChanges: number; lastSyncTime: string | null }>(
      'GET',
      '/api/v1/sync/status?deviceId=tablet',
      { user: 'u1' },
    );
    expect(status.body.pendingChanges).toBe(0);
    expect(status.body.lastSyncTime).not.toBeNull();
  });
});
