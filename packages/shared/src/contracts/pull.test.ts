import { describe, expect, it } from 'vitest';
import { PullQuerySchema, PullResultSchema } from './pull.ts';

describe('PullQuerySchema', () => {
  it('defaults to the user scope, 100 changes and all types', () => {
    expect(PullQuerySchema.parse({})).toEqual({ limit: 100, scope: 'user' });
  });

  it('coerces query-string text', () => {
    const q = PullQuerySchema.parse({
      cursor: 'abc.def',
      entityTypes: 'goals, products,goals',
      limit: '250',
      deviceId: 'd1',
      scope: 'catalog',
      leaseId: 'l1',
    });
    expect(q).toEqual({
      cursor: 'abc.def',
      entityTypes: ['products', 'goals'],
      limit: 250,
      deviceId: 'd1',
      scope: 'catalog',
      leaseId: 'l1',
    });
  });

  it('accepts repeated entityTypes parameters and treats empty values as absent', () => {
    expect(
      PullQuerySchema.parse({ entityTypes: ['sessions', 'products,devices'] }).entityTypes,
    ).toEqual(['products', 'devices', 'sessions']);
    expect(PullQuerySchema.parse({ entityTypes: '', cursor: '', deviceId: '', scope: '' })).toEqual(
      { limit: 100, scope: 'user' },
    );
    expect(PullQuerySchema.parse({ entityTypes: ' , ' }).entityTypes).toBeUndefined();
  });

  it.each([['0'], ['1001'], ['-5'], ['ten'], ['1.5'], ['']])('refuses limit=%s', (limit) => {
    expect(PullQuerySchema.safeParse({ limit }).success).toBe(false);
  });

  it('refuses an unknown entity type, naming it', () => {
    const issues = PullQuerySchema.safeParse({ entityTypes: 'sessions,users' }).error?.issues ?? [];
    expect(issues[0]?.path).toEqual(['entityTypes']);
    expect(issues[0]?.message).toContain('users');
  });

  it('refuses an unknown scope and oversize ids', () => {
    expect(PullQuerySchema.safeParse({ scope: 'all' }).success).toBe(false);
    expect(PullQuerySchema.safeParse({ deviceId: 'x'.repeat(129) }).success).toBe(false);
  });

  it('leaves cursor checks to the codec, so a bad cursor is INVALID_CURSOR, not VALIDATION_ERROR', () => {
    expect(PullQuerySchema.parse({ cursor: 'x'.repeat(5000) }).cursor).toHaveLength(5000);
  });

  it('leaves a catalog pull without lease to the route (LEASE_REQUIRED, not VALIDATION_ERROR)', () => {
    expect(PullQuerySchema.safeParse({ scope: 'catalog' }).success).toBe(true);
  });
});

describe('PullResultSchema', () => {
  it('accepts a page with server-made changes and per-entity cursors', () => {
    const page = {
      changes: [
        {
          changeId: '42',
          entityType: 'sessions',
          entityId: 's-1',
          changeType: 'UPDATE',
          version: 3,
          data: { id: 's-1', status: 'ACTIVE', eventCount: 2 },
          createdAt: '2024-05-01T10:00:00.000Z',
          originDeviceId: null,
        },
      ],
      cursor: 'p.m',
      hasMore: false,
      recordsReturned: 1,
      entityCursors: { sessions: 'p.m' },
    };
    expect(PullResultSchema.parse(page)).toEqual(page);
    expect(PullResultSchema.safeParse({ ...page, entityCursors: { users: 'x' } }).success).toBe(
      false,
    );
  });
});
