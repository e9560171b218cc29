import { describe, expect, it } from 'vitest';
import type {
  CapturedMutationList,
  CapturedRequestDetail,
  ConflictPatterns,
  DashboardConflictList,
  DashboardFailureList,
  DashboardMetrics,
  FailureGroups,
} from '@sync-engine/shared';
import { conflictsView } from './conflicts-view.ts';
import { failuresView } from './failures-view.ts';
import type { ViewContext } from './layout.ts';
import { overviewView } from './overview-view.ts';
import { dashboardPaths } from './paths.ts';
import { requestDetailView } from './request-detail-view.ts';
import { requestsView } from './requests-view.ts';

/*
 * Every view rendered with hostile values in every captured field a client controls: the
 * output must contain no markup from them, only their escaped text.
 */

const EVIL = '"><img src=x onerror=alert(1)><script>alert(2)</script>';
const AT = '2024-05-01T12:00:00.000Z';
const ctx: ViewContext = {
  paths: dashboardPaths('/tether/dashboard'),
  nonce: 'n0nce',
  userId: EVIL,
};

/**
 * Tags in the output that no view writes itself: a script or image element, or an event
 * handler attribute. Text and attribute values are escaped (no raw `<`, `>` or `"` in them),
 * so every `<…>` left is a real tag and every `"…"` in it one whole value.
 */
function injected(markup: string): string[] {
  return (markup.match(/<[^>]*>/g) ?? [])
    .map((tag) => tag.replace(/"[^"]*"/g, '""')) // quoted values are escaped text; `"` never occurs in one
    .filter((tag) => /^<\/?(script|img|iframe)\b|\son\w+\s*=/i.test(tag));
}

const summary = {
  id: '00000000-0000-4000-8000-000000000001',
  kind: 'push' as const,
  userId: EVIL,
  clientId: EVIL,
  startedAt: AT,
  durationMs: 12.5,
  httpStatus: 207,
  outcome: 'partial' as const,
  mutationCount: 1,
  conflictCount: 0,
  failureCount: 1,
  snapshotCount: 0,
  replayOf: null,
};

const detail: CapturedRequestDetail = {
  ...summary,
  request: {
    method: 'POST',
    url: `/api/v1/sync/push?x=${EVIL}`,
    headers: { 'user-agent': EVIL },
    body: { deviceId: EVIL },
  },
  response: { status: 207, headers: {}, body: { failed: [{ requestId: EVIL }] } },
  replays: [{ ...summary, id: '00000000-0000-4000-8000-000000000002', replayOf: summary.id }],
  correlationId: EVIL,
  syncOperationId: EVIL,
  errorCode: null,
};

const mutations: CapturedMutationList = {
  data: [
    {
      index: 0,
      requestId: EVIL,
      entityType: 'products',
      entityId: EVIL,
      changeType: 'CREATE',
      payload: { name: EVIL, [EVIL]: EVIL },
      outcome: 'rejected',
      reason: EVIL,
      before: { name: EVIL },
      after: null,
      diff: [{ field: EVIL, before: EVIL, after: { [EVIL]: EVIL } }],
      durationMs: 0.4,
      clientEntityId: EVIL,
      reasonCode: 'VALIDATION_ERROR',
      reasonDetail: { message: EVIL, details: [{ field: EVIL, message: EVIL }] },
    },
  ],
  page: 1,
  perPage: 20,
  total: 1,
};

describe('views render captured values as text', () => {
  it('request detail, requests list and overview', () => {
    const pages = [
      requestDetailView(ctx, {
        detail,
        mutations,
        availability: { replayable: false, code: 'REPLAY_UNAVAILABLE', reason: EVIL },
        liveEnabled: false,
      }),
      requestsView(
        ctx,
        { page: 1, perPage: 50, clientId: EVIL, userId: EVIL },
        { data: [summary], page: 1, perPage: 50, total: 1 },
      ),
      overviewView(ctx, {
        metrics: {
          generatedAt: AT,
          window: '24h',
          throughput: { requests: 1, pushRequests: 1, pullRequests: 0, mutations: 1 },
          latency: { avgMs: 1, p50Ms: 1, p95Ms: 1, p99Ms: 1 },
          conflictRate: 0,
          failureRate: 100,
          healthStrip: [
            { start: AT, end: AT, requests: 1, failures: 1, conflicts: 0, status: 'failing' },
          ],
          topModels: [{ model: 'products', mutations: 1 }],
          topClients: [{ clientId: EVIL, requests: 1, mutations: 1 }],
        } satisfies DashboardMetrics,
        recent: [summary],
        refresh: false,
      }),
    ].map(String);
    for (const page of pages) {
      expect(injected(page)).toEqual([]);
      expect(page).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
      // In links the value is percent-encoded.
      expect(page).not.toMatch(/href="[^"]*<|href="[^"]*"&gt;/);
    }
    expect(pages[0]).toContain('<style nonce="n0nce">');
  });

  it('conflicts and failures', () => {
    const conflicts: DashboardConflictList = {
      data: [
        {
          conflictId: EVIL,
          captureId: EVIL,
          model: 'goals',
          clientId: EVIL,
          userId: EVIL,
          entityId: EVIL,
          strategy: 'MERGE',
          outcome: 'ADOPT_SERVER',
          status: 'RESOLVED',
          clientPayload: { name: EVIL },
          serverState: { name: EVIL },
          reason: EVIL,
          createdAt: AT,
        },
      ],
      page: 1,
      perPage: 50,
      total: 1,
    };
    const patterns: ConflictPatterns = {
      data: [{ model: 'goals', clientId: EVIL, count: 1, lastSeenAt: AT }],
    };
    const failure = {
      id: EVIL,
      captureId: EVIL,
      model: 'products' as const,
      clientId: EVIL,
      userId: EVIL,
      entityId: EVIL,
      code: EVIL,
      message: EVIL,
      details: [{ field: EVIL, message: EVIL }],
      payload: { [EVIL]: EVIL },
      createdAt: AT,
    };
    const failures: DashboardFailureList = { data: [failure], page: 1, perPage: 50, total: 1 };
    const groups: FailureGroups = {
      data: [
        {
          model: 'products',
          clientId: EVIL,
          code: EVIL,
          count: 1,
          lastSeenAt: AT,
          sample: failure,
        },
      ],
    };
    for (const page of [
      String(conflictsView(ctx, { page: 1, perPage: 50, clientId: EVIL }, conflicts, patterns)),
      String(failuresView(ctx, { page: 1, perPage: 50, code: EVIL }, failures, groups)),
    ]) {
      expect(injected(page)).toEqual([]);
      expect(page).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    }
  });
});
