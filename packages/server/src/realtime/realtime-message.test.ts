import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../outbox/outbox-subscriber.ts';
import { realtimeMessageOf } from './realtime-message.ts';

const event = (eventType: string, payload: unknown): OutboxEvent => ({
  id: '1',
  userId: 'u',
  eventType,
  payload,
  attempts: 1,
  createdAt: '2024-05-01T10:00:00.000Z',
});

describe('realtimeMessageOf', () => {
  it('turns a completed push into sync:push:completed (counts) for every socket of the user', () => {
    const payload = {
      userId: 'u',
      deviceId: 'd1',
      syncOperationId: 'op',
      successful: 2,
      failed: 1,
      conflicts: 0,
    };
    expect(realtimeMessageOf(event('sync.push.completed', payload))).toEqual({
      userId: 'u',
      exceptDeviceId: null,
      event: {
        type: 'sync:push:completed',
        data: { syncOperationId: 'op', deviceId: 'd1', successful: 2, failed: 1, conflicts: 0 },
      },
    });
  });

  it("turns committed changes into sync:changes for every socket but the pushing device's, types in sync order", () => {
    const payload = {
      userId: 'u',
      deviceId: 'd1',
      syncOperationId: 'op',
      entityTypes: ['goals', 'products', 'goals', 'widgets'],
      changeCount: 3,
    };
    expect(realtimeMessageOf(event('sync.changes', payload))).toEqual({
      userId: 'u',
      exceptDeviceId: 'd1',
      event: { type: 'sync:changes', data: { entityTypes: ['products', 'goals'] } },
    });
  });

  it('sends changes made without a device (a conflict resolution) to every socket', () => {
    for (const deviceId of [null, '']) {
      expect(
        realtimeMessageOf(event('sync.changes', { userId: 'u', deviceId, entityTypes: ['goals'] }))
          ?.exceptDeviceId,
      ).toBeNull();
    }
  });

  it('turns resolved conflicts into sync:conflicts:resolved', () => {
    expect(
      realtimeMessageOf(event('sync.conflicts.resolved', { userId: 'u', conflictIds: ['c1'] })),
    ).toEqual({
      userId: 'u',
      exceptDeviceId: null,
      event: { type: 'sync:conflicts:resolved', data: { conflictIds: ['c1'] } },
    });
  });

  it('ignores other event types and refuses malformed payloads', () => {
    expect(realtimeMessageOf(event('audit.something', {}))).toBeUndefined();
    expect(() => realtimeMessageOf(event('sync.push.completed', { userId: 'u' }))).toThrow();
  });
});
