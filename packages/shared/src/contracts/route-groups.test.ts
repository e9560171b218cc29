import { describe, expect, it } from 'vitest';
import { ErrorEnvelopeSchema } from './common.ts';
import { FullSyncRequestSchema, FullSyncResultSchema } from './full.ts';
import { HealthReportSchema } from './health.ts';
import { LeaseGrantSchema, LeaseRequestSchema } from './lease.ts';
import { ResetRequestSchema, ResetResultSchema } from './reset.ts';
import { StatusQuerySchema, SyncStatusSchema } from './status.ts';
import { SyncWsEventSchema } from './ws-events.ts';

const OP = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('error envelope', () => {
  it('accepts the contract error body, details and correlation id optional', () => {
    const body = {
      error: {
        code: 'VALIDATION_ERROR',
        message: 'bad',
        details: [{ field: 'changes.0.entityId', message: 'too long' }],
        correlationId: 'abc',
      },
    };
    expect(ErrorEnvelopeSchema.parse(body)).toEqual(body);
    expect(
      ErrorEnvelopeSchema.safeParse({ error: { code: 'INTERNAL', message: 'oops' } }).success,
    ).toBe(true);
    expect(
      ErrorEnvelopeSchema.safeParse({ error: { code: 'not-snake', message: 'x' } }).success,
    ).toBe(false);
  });
});

describe('full sync', () => {
  it('takes an empty or absent change list and pull options', () => {
    expect(FullSyncRequestSchema.parse({ syncOperationId: OP, deviceId: 'd1' })).toMatchObject({
      changes: [],
      limit: 100,
    });
    expect(
      FullSyncRequestSchema.parse({
        syncOperationId: OP,
        deviceId: 'd1',
        changes: [],
        entityTypes: ['goals'],
        limit: 10,
      }),
    ).toMatchObject({
      entityTypes: ['goals'],
      limit: 10,
    });
    expect(
      FullSyncRequestSchema.safeParse({ syncOperationId: OP, deviceId: 'd1', limit: 0 }).success,
    ).toBe(false);
  });

  it('answers with the push answer and the first pull page', () => {
    const body = {
      push: { syncOperationId: OP, successful: [], failed: [], conflicts: [], idMappings: [] },
      pull: { changes: [], cursor: 'c', hasMore: false, recordsReturned: 0, entityCursors: {} },
    };
    expect(FullSyncResultSchema.parse(body)).toEqual(body);
  });
});

describe('reset, lease, status', () => {
  it('reset needs a deviceId and answers reset: true', () => {
    expect(ResetRequestSchema.safeParse({}).success).toBe(false);
    expect(ResetResultSchema.parse({ deviceId: 'd1', reset: true })).toEqual({
      deviceId: 'd1',
      reset: true,
    });
    expect(ResetResultSchema.safeParse({ deviceId: 'd1', reset: false }).success).toBe(false);
  });

  it('lease kinds are catalog_sync and health_upload', () => {
    expect(LeaseRequestSchema.safeParse({ kind: 'catalog_sync' }).success).toBe(true);
    expect(LeaseRequestSchema.safeParse({ kind: 'bulk' }).success).toBe(false);
    const grant = {
      leaseId: 'l1',
      kind: 'health_upload',
      leaseWindowMs: 60000,
      maxRequests: 10,
      expiresAt: '2024-05-01T10:01:00.000Z',
    };
    expect(LeaseGrantSchema.parse(grant)).toEqual(grant);
  });

  it('status is per device', () => {
    expect(StatusQuerySchema.safeParse({}).success).toBe(false);
    const status = {
      deviceId: 'd1',
      lastSyncTime: null,
      syncInProgress: false,
      cursorPositions: { sessions: null, goals: 'c' },
      pendingChanges: 3,
      conflicts: 0,
    };
    expect(SyncStatusSchema.parse(status)).toEqual(status);
  });
});

describe('health', () => {
  it('names the four checks and lets more ride along', () => {
    const report = {
      status: 'degraded',
      checks: {
        database: { status: 'ok', latencyMs: 2 },
        cache: { status: 'ok' },
        leases: { status: 'ok' },
        outbox: { status: 'degraded', backlog: 12, deadLetters: 1 },
        disk: { status: 'ok' },
      },
    };
    expect(HealthReportSchema.parse(report)).toEqual(report);
    expect(
      HealthReportSchema.safeParse({ status: 'ok', checks: { database: { status: 'ok' } } })
        .success,
    ).toBe(false);
  });
});

describe('websocket events', () => {
  it.each([
    {
      type: 'sync:push:completed',
      data: { syncOperationId: OP, deviceId: 'd1', successful: 3, failed: 0, conflicts: 1 },
    },
    { type: 'sync:conflicts:resolved', data: { conflictIds: ['c1'] } },
    { type: 'sync:changes', data: { entityTypes: ['sessions'] } },
  ])('accepts $type', (event) => {
    expect(SyncWsEventSchema.parse(event)).toEqual(event);
  });

  it('refuses unknown event types and mismatched data', () => {
    expect(SyncWsEventSchema.safeParse({ type: 'sync:other', data: {} }).success).toBe(false);
    expect(
      SyncWsEventSchema.safeParse({ type: 'sync:changes', data: { conflictIds: [] } }).success,
    ).toBe(false);
  });
});
