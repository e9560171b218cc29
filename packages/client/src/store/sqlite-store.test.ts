import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeLocalStoreConformance } from './local-store.conformance.ts';
import { createSqliteStore } from './sqlite-store.ts';

describeLocalStoreConformance({ name: 'sqlite', open: () => createSqliteStore() });

describe('SQLite store on a file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sync-client-sqlite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps rows, outbox, id map and cursor across a reopen', async () => {
    const filename = path.join(dir, 'device.db');
    const first = createSqliteStore({ filename });
    await first.transaction((t) => {
      t.putRow('products', {
        id: 'srv-p',
        version: 2,
        deletedAt: null,
        updatedAt: null,
        data: { name: 'P' },
      });
      t.putOutbox({
        requestId: 'r1',
        entityType: 'products',
        entityId: 'srv-p',
        changeType: 'UPDATE',
        changeData: { name: 'Q' },
        syncVersion: 2,
        updatedAt: '2024-05-01T00:00:00.000Z',
        attempts: 0,
        nextAttemptAt: null,
        lastError: null,
        batchId: 'op-1',
      });
      t.putIdMapping({ entityType: 'products', clientId: 'local-p', serverId: 'srv-p' });
      t.setMeta('cursor', 'c1');
    });
    await first.close();

    const second = createSqliteStore({ filename });
    const state = await second.transaction((t) => ({
      row: t.getRow('products', 'srv-p'),
      outbox: t.listOutbox().map((e) => [e.requestId, e.batchId]),
      mapped: t.getIdMapping('products', 'local-p'),
      cursor: t.getMeta('cursor'),
    }));
    await second.close();
    expect(state).toEqual({
      row: { id: 'srv-p', version: 2, deletedAt: null, updatedAt: null, data: { name: 'P' } },
      outbox: [['r1', 'op-1']],
      mapped: 'srv-p',
      cursor: 'c1',
    });
  });
});
