import { describe, expect, it } from 'vitest';
import {
  CapturedMutationListSchema,
  CapturedRequestDetailSchema,
  CapturedRequestListQuerySchema,
  CapturedRequestListSchema,
  ConflictPatternsSchema,
  DashboardConflictListSchema,
  DashboardFailureListSchema,
  DashboardMetricsQuerySchema,
  DashboardMetricsSchema,
  DashboardPageQuerySchema,
  FailureGroupsSchema,
  ReplayPreviewSchema,
  ReplayRequestSchema,
  ReplayResultSchema,
} from './dashboard.ts';

const T = '2024-05-01T10:00:00.000Z';
const summary = {
  id: 'cap-1',
  kind: 'push',
  userId: 'u1',
  clientId: 'd1',
  startedAt: T,
  durationMs: 12.5,
  httpStatus: 207,
  outcome: 'partial',
  mutationCount: 3,
  conflictCount: 1,
  failureCount: 1,
  snapshotCount: 2,
  replayOf: null,
};
const failure = {
  id: 'f1',
  captureId: 'cap-1',
  model: 'purchases',
  clientId: 'd1',
  userId: 'u1',
  entityId: 'p1',
  code: 'FK_NOT_FOUND',
  message: 'no product',
  details: [{ field: 'changeData.productId', message: 'not found' }],
  payload: { productId: 'x' },
  createdAt: T,
};
const page = <T>(data: T[]) => ({ data, page: 1, perPage: 50, total: data.length });

describe('dashboard queries', () => {
  it('page from 1, perPage default 50, larger values clamped to 100', () => {
    expect(DashboardPageQuerySchema.parse({})).toEqual({ page: 1, perPage: 50 });
    expect(DashboardPageQuerySchema.parse({ page: '3', perPage: '500' })).toEqual({
      page: 3,
      perPage: 100,
    });
    expect(DashboardPageQuerySchema.safeParse({ page: '0' }).success).toBe(false);
  });

  it('request filters and the metrics window', () => {
    expect(
      CapturedRequestListQuerySchema.parse({
        kind: 'pull',
        outcome: 'failed',
        clientId: 'd1',
        userId: '',
      }),
    ).toEqual({
      page: 1,
      perPage: 50,
      kind: 'pull',
      outcome: 'failed',
      clientId: 'd1',
    });
    expect(CapturedRequestListQuerySchema.safeParse({ kind: 'delete' }).success).toBe(false);
    expect(CapturedRequestListQuerySchema.parse({ kind: 'full' }).kind).toBe('full');
    expect(DashboardMetricsQuerySchema.parse({})).toEqual({ window: '24h' });
    expect(DashboardMetricsQuerySchema.safeParse({ window: 'forever' }).success).toBe(false);
  });
});

describe('dashboard answers', () => {
  it('metrics overview', () => {
    const metrics = {
      generatedAt: T,
      window: '24h',
      throughput: { requests: 10, pushRequests: 6, pullRequests: 4, mutations: 30 },
      latency: { avgMs: 5, p50Ms: 4, p95Ms: 9, p99Ms: 12 },
      conflictRate: 10,
      failureRate: 0,
      healthStrip: [{ start: T, end: T, requests: 1, failures: 0, conflicts: 0, status: 'ok' }],
      topModels: [{ model: 'sessions', mutations: 20 }],
      topClients: [{ clientId: 'd1', requests: 10, mutations: 30 }],
    };
    expect(DashboardMetricsSchema.parse(metrics)).toEqual(metrics);
    expect(DashboardMetricsSchema.safeParse({ ...metrics, failureRate: 120 }).success).toBe(false);
  });

  it('request list and detail', () => {
    expect(CapturedRequestListSchema.parse(page([summary]))).toEqual(page([summary]));
    const detail = {
      ...summary,
      request: { changes: [] },
      response: { successful: [] },
      replays: [{ ...summary, id: 'cap-2', replayOf: 'cap-1' }],
    };
    expect(CapturedRequestDetailSchema.parse(detail)).toEqual(detail);
  });

  it('mutations with before/after and field diffs', () => {
    const mutation = {
      index: 0,
      requestId: 'evt-1',
      entityType: 'goals',
      entityId: 'g1',
      changeType: 'UPDATE',
      payload: { currentValue: 3 },
      outcome: 'conflict',
      reason: 'stale version',
      before: { currentValue: 5 },
      after: { currentValue: 5 },
      diff: [],
      durationMs: 0.4,
    };
    expect(CapturedMutationListSchema.parse(page([mutation]))).toEqual(page([mutation]));
    expect(
      CapturedMutationListSchema.safeParse(page([{ ...mutation, outcome: 'merged' }])).success,
    ).toBe(false);
  });

  it('conflicts, patterns, failures and groups', () => {
    const conflict = {
      conflictId: 'c1',
      captureId: 'cap-1',
      model: 'goals',
      clientId: 'd1',
      userId: 'u1',
      entityId: 'g1',
      strategy: 'MERGE',
      outcome: 'ADOPT_SERVER',
      status: 'RESOLVED',
      clientPayload: {},
      serverState: {},
      reason: null,
      createdAt: T,
    };
    expect(DashboardConflictListSchema.parse(page([conflict]))).toEqual(page([conflict]));
    expect(
      ConflictPatternsSchema.parse({
        data: [{ model: 'goals', clientId: 'd1', count: 4, lastSeenAt: T }],
      }),
    ).toBeTruthy();
    expect(DashboardFailureListSchema.parse(page([failure]))).toEqual(page([failure]));
    expect(
      FailureGroupsSchema.parse({
        data: [
          {
            model: 'purchases',
            clientId: 'd1',
            code: 'FK_NOT_FOUND',
            count: 2,
            lastSeenAt: T,
            sample: failure,
          },
        ],
      }),
    ).toBeTruthy();
  });

  it('replay: preview, confirmation and result', () => {
    expect(
      ReplayPreviewSchema.parse({
        requestId: 'cap-1',
        mutations: [
          {
            index: 0,
            outcome: 'applied',
            before: null,
            after: { a: 1 },
            diff: [{ field: 'a', before: null, after: 1 }],
          },
        ],
      }),
    ).toBeTruthy();
    expect(ReplayRequestSchema.safeParse({ confirm: true }).success).toBe(true);
    expect(ReplayRequestSchema.safeParse({ confirm: 'yes' }).success).toBe(false);
    expect(ReplayRequestSchema.safeParse({}).success).toBe(false);
    expect(
      ReplayResultSchema.parse({
        replayRequestId: 'cap-9',
        originalRequestId: 'cap-1',
        syncOperationId: 'op',
      }),
    ).toBeTruthy();
  });
});
