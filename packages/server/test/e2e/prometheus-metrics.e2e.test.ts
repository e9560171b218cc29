import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { ErrorEnvelopeSchema } from '@sync-engine/shared';
import { leaseMetricsObserver } from '../../src/metrics/sync-metrics.ts';
import { dashboardOk } from '../support/capture-fixtures.ts';
import { create, pushOk, serverIdOf, update, useSharedServer } from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

/** The value of the sample `name{…}` whose labels include `labels`; 0 when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) {
      total += Number(match[3]);
      found = true;
    }
  }
  return found ? total : 0;
}

async function scrape(server: TestServer, token?: string): Promise<string> {
  const answer = await server.request<string>('GET', '/metrics', token === undefined ? {} : { token });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return answer.body;
}

describeEachDatabase('Prometheus /metrics', (target) => {
  const server = useSharedServer(target);

  it('counts requests and latency by route pattern and status, push changes by outcome, conflicts by entity type', async () => {
    const before = await scrape(server());
    const user = `prom-${randomUUID().slice(0, 8)}`;
    const created = await pushOk(server(), user, 'dev-a', [create('goals', 'g1', { name: 'Run', currentValue: 1 })]);
    const goalId = serverIdOf(created, 'goals', 'g1');
    await pushOk(server(), user, 'dev-b', [update('goals', goalId, 1, { currentValue: 3 })]);
    await pushOk(server(), user, 'dev-a', [
      update('goals', goalId, 1, { name: 'Walk' }),
      create('purchases', 'pu1', { quantityPurchased: 1, productId: 'missing' }),
    ]);
    await server().request('GET', '/api/v1/sync/changes?deviceId=dev-a', { user });
    await server().app.captureFlush();
    const [capture] = (await dashboardOk<{ data: { id: string }[] }>(server(), `/api/requests?userId=${user}`)).data;
    await dashboardOk(server(), `/api/requests/${capture!.id}`);
    const after = await scrape(server());

    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    const push = { method: 'POST', route: '/api/v1/sync/push' };
    expect(delta('sync_engine_http_requests_total', { ...push, status: '200' })).toBe(2);
    expect(delta('sync_engine_http_requests_total', { ...push, status: '207' })).toBe(1);
    expect(delta('sync_engine_http_requests_total', { method: 'GET', route: '/api/v1/sync/changes', status: '200' })).toBe(1);
    expect(delta('sync_engine_http_request_duration_seconds_count', { ...push, status: '200' })).toBe(2);
    expect(delta('sync_engine_http_request_duration_seconds_bucket', { ...push, status: '207', le: '+Inf' })).toBe(1);
    expect(sample(after, 'sync_engine_http_request_duration_seconds_sum', { ...push, status: '200' })).toBeGreaterThan(0);
    // The route pattern, never the raw URL: no capture id, no query string in any label.
    expect(delta('sync_engine_http_requests_total', { route: '/tether/dashboard/api/requests/:id', status: '200' })).toBe(1);
    expect(after).not.toContain(capture!.id);
    expect(after).not.toContain('deviceId=');

    expect(delta('sync_engine_push_changes_total', { outcome: 'APPLIED' })).toBe(2);
    expect(delta('sync_engine_push_changes_total', { outcome: 'CONFLICT' })).toBe(1);
    expect(delta('sync_engine_push_changes_total', { outcome: 'FAILED' })).toBe(1);
    expect(delta('sync_engine_conflicts_total', { entity_type: 'goals' })).toBe(1);
    expect(delta('sync_engine_conflicts_total', { entity_type: 'goals', strategy: 'MERGE', outcome: 'ADOPT_SERVER' })).toBe(1);
  });

  it('exposes lease grants and rejections for the lease code to count', async () => {
    const before = await scrape(server());
    expect(before).toContain('# TYPE sync_engine_lease_grants_total counter');
    expect(before).toContain('# TYPE sync_engine_lease_rejections_total counter');
    leaseMetricsObserver.granted?.('catalog_sync');
    leaseMetricsObserver.rejected?.('catalog_sync', 'exhausted');
    const after = await scrape(server());
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('sync_engine_lease_grants_total', { kind: 'catalog_sync' })).toBe(1);
    expect(delta('sync_engine_lease_rejections_total', { kind: 'catalog_sync', reason: 'exhausted' })).toBe(1);
  });
});

describeEachDatabase('Prometheus /metrics with METRICS_TOKEN', (target) => {
  it('needs the token then; the outbox backlog gauge reads the database at scrape time', async () => {
    await using server = await startTestServer({ target, env: { METRICS_TOKEN: 'scrape-token-1234' } });
    for (const token of [undefined, 'wrong-token', await server.token('ops', { admin: true })]) {
      const denied = await server.request('GET', '/metrics', token === undefined ? {} : { token });
      expect(denied.status).toBe(401);
      expect(ErrorEnvelopeSchema.parse(denied.body).error.code).toBe('UNAUTHENTICATED');
    }
    expect(sample(await scrape(server, 'scrape-token-1234'), 'sync_engine_outbox_backlog')).toBe(0);
    // Events not due for an hour stay pending: the backlog is exactly what the table holds.
    for (let i = 0; i < 3; i++) {
      await sql`insert into outbox_events (event_type, payload, next_attempt_at)
        values ('test.event', '{}'::jsonb, now() + interval '1 hour')`.execute(server.database.db);
    }
    await sql`insert into outbox_events (event_type, payload, status) values ('test.dead', '{}'::jsonb, 'DEAD_LETTER')`.execute(
      server.database.db,
    );
    const text = await scrape(server, 'scrape-token-1234');
    expect(sample(text, 'sync_engine_outbox_backlog')).toBe(3);
    expect(sample(text, 'sync_engine_outbox_dead_letters')).toBe(1);
    expect(text).toContain('# TYPE sync_engine_capture_queue_depth gauge');
  });
});
