import { describe, expect, it } from 'vitest';
import {
  ConflictListQuerySchema,
  ConflictListResultSchema,
  MAX_RESOLUTIONS_PER_REQUEST,
  ResolveConflictsRequestSchema,
  ResolveConflictsResultSchema,
} from './conflicts.ts';

describe('conflict routes', () => {
  it('list query: optional status, limit coerced with a default, optional page cursor', () => {
    expect(ConflictListQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(ConflictListQuerySchema.parse({ status: 'PENDING', limit: '10', cursor: 'n1' })).toEqual(
      { status: 'PENDING', limit: 10, cursor: 'n1' },
    );
    expect(ConflictListQuerySchema.safeParse({ status: 'OPEN' }).success).toBe(false);
    expect(ConflictListQuerySchema.safeParse({ limit: '101' }).success).toBe(false);
  });

  it('list answer: auto-resolved and pending conflicts', () => {
    const base = {
      conflictId: 'c1',
      entityType: 'goals',
      entityId: 'g1',
      strategy: 'MERGE',
      outcome: 'ADOPT_SERVER',
      clientData: { name: 'a' },
      serverData: { name: 'b' },
      createdAt: '2024-05-01T10:00:00.000Z',
    };
    const body = {
      conflicts: [
        { ...base, status: 'RESOLVED', resolution: 'AUTO', resolvedAt: '2024-05-01T10:00:00.000Z' },
        {
          ...base,
          strategy: 'MANUAL',
          outcome: 'MANUAL_REQUIRED',
          status: 'PENDING',
          resolution: null,
          resolvedAt: null,
        },
      ],
      nextCursor: null,
    };
    expect(ConflictListResultSchema.parse(body)).toEqual(body);
  });

  it(`resolve: 1–${MAX_RESOLUTIONS_PER_REQUEST} resolutions with a known strategy`, () => {
    const r = (i: number) => ({ conflictId: `c${i}`, strategy: 'LOCAL_WINS' });
    expect(ResolveConflictsRequestSchema.safeParse({ resolutions: [] }).success).toBe(false);
    expect(
      ResolveConflictsRequestSchema.safeParse({
        resolutions: Array.from({ length: 100 }, (_, i) => r(i)),
      }).success,
    ).toBe(true);
    expect(
      ResolveConflictsRequestSchema.safeParse({
        resolutions: Array.from({ length: 101 }, (_, i) => r(i)),
      }).success,
    ).toBe(false);
    expect(
      ResolveConflictsRequestSchema.safeParse({
        resolutions: [{ conflictId: 'c', strategy: 'THEIRS' }],
      }).success,
    ).toBe(false);
  });

  it('resolve: leaves mergedData to the service, so bad data fails one resolution only', () => {
    const parsed = ResolveConflictsRequestSchema.parse({
      resolutions: [
        { conflictId: 'c1', strategy: 'MANUAL', mergedData: 'not an object' },
        { conflictId: 'c2', strategy: 'MANUAL' },
      ],
    });
    expect(parsed.resolutions[0]?.mergedData).toBe('not an object');
  });

  it('resolve answer: resolved entries and failed entries with an error object', () => {
    const body = {
      resolved: [
        { conflictId: 'c1', entityType: 'goals', entityId: 'g1', version: 4, state: { name: 'x' } },
      ],
      failed: [
        {
          conflictId: 'c2',
          error: { code: 'CONFLICT_ALREADY_RESOLVED', message: 'resolved before' },
        },
      ],
    };
    expect(ResolveConflictsResultSchema.parse(body)).toEqual(body);
  });
});
