import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  CapturedMutationListSchema,
  CapturedRequestDetailSchema,
  CapturedRequestListSchema,
  REDACTED,
  type CapturedMutation,
  type CapturedMutationList,
  type CapturedRequestDetail,
  type CapturedRequestList,
  type PushResult,
} from '@sync-engine/shared';
import {
  SECRETS,
  SECRET_HEADERS,
  createLogSink,
  dashboardOk,
  leakedSecrets,
  secretSettings,
} from '../support/capture-fixtures.ts';
import {
  create,
  productCreates,
  push,
  pushBody,
  pushOk,
  serverIdOf,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';
import { createTestDatabase, describeEachDatabase } from '../support/test-database.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

async function requestsOf(server: TestServer, query: string): Promise<CapturedRequestList> {
  await server.app.captureFlush();
  return CapturedRequestListSchema.parse(await dashboardOk(server, `/api/requests?${query}`));
}

async function onlyCaptureOf(server: TestServer, userId: string) {
  const list = await requestsOf(server, `userId=${userId}`);
  expect(list.total).toBe(1);
  return list.data[0]!;
}

async function detailOf(server: TestServer, id: string): Promise<CapturedRequestDetail> {
  const body = await dashboardOk<CapturedRequestDetail>(server, `/api/requests/${id}`);
  CapturedRequestDetailSchema.parse(body);
  return body;
}

async function mutationsOf(server: TestServer, id: string, query = ''): Promise<CapturedMutationList> {
  const body = await dashboardOk<CapturedMutationList>(server, `/api/requests/${id}/mutations${query}`);
  CapturedMutationListSchema.parse(body);
  return body;
}

describeEachDatabase('capture of sync requests', (target) => {
  const logs = createLogSink();
  const server = useSharedServer(target, {
    env: { REDACT_KEYS: 'serialNumber' },
    deps: { logger: { level: 'info', stream: logs.stream } },
  });
  /** Every dashboard answer of this block, checked for secrets at the end. */
  const seen: string[] = [];
  const keep = <T>(value: T): T => {
    seen.push(JSON.stringify(value));
    return value;
  };

  it('a push is captured: who, when, duration, status, outcome, counts; request and response redacted', async () => {
    const user = uniqueUser('cap');
    const before = Date.now();
    const answer = await server().request<PushResult>('POST', '/api/v1/sync/push', {
      user,
      headers: { ...SECRET_HEADERS, 'x-correlation-id': 'corr-capture-1' },
      body: pushBody('phone-1', [
        create('products', 'p1', { name: 'Blue' }),
        create('devices', 'd1', { deviceName: 'Pixel', settings: secretSettings(), serialNumber: SECRETS.serial }),
      ]),
    });
    expect(answer.status).toBe(200);
    const after = Date.now();

    const summary = keep(await onlyCaptureOf(server(), user));
    expect(summary).toEqual({
      id: expect.any(String) as unknown,
      kind: 'push',
      userId: user,
      clientId: 'phone-1',
      startedAt: expect.any(String) as unknown,
      durationMs: expect.any(Number) as unknown,
      httpStatus: 200,
      outcome: 'success',
      mutationCount: 2,
      conflictCount: 0,
      failureCount: 0,
      snapshotCount: 0,
      replayOf: null,
    });
    const started = Date.parse(summary.startedAt);
    expect(started).toBeGreaterThanOrEqual(before - 5);
    expect(started).toBeLessThanOrEqual(after);
    expect(summary.durationMs).toBeGreaterThan(0);
    expect(started + summary.durationMs).toBeLessThanOrEqual(after + 5);

    const detail = keep(await detailOf(server(), summary.id));
    expect(detail).toMatchObject({ ...summary, replays: [], correlationId: 'corr-capture-1', errorCode: null });
    type SentChange = { changeData: { settings: Record<string, unknown> } & Record<string, unknown> };
    const request = detail.request as {
      method: string;
      url: string;
      headers: Record<string, unknown>;
      body: { changes: SentChange[] };
    };
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/v1/sync/push');
    expect(request.headers['authorization']).toBe(REDACTED);
    expect(request.headers['x-api-key']).toBe(REDACTED);
    expect(request.headers['cookie']).toBe(REDACTED);
    expect(request.headers['content-type']).toBe('application/json');
    const sentDevice = request.body.changes[1]!.changeData;
    expect(sentDevice).toEqual({
      deviceName: 'Pixel',
      settings: { theme: 'dark', apiKey: REDACTED, nested: { password: REDACTED, keep: 'visible' } },
      serialNumber: REDACTED,
    });
    const response = detail.response as { status: number; headers: Record<string, unknown>; body: PushResult };
    expect(response.status).toBe(200);
    expect(response.headers['x-correlation-id']).toBe('corr-capture-1');
    expect(response.body).toEqual(answer.body);

    const mutations = keep(await mutationsOf(server(), summary.id));
    expect(mutations.total).toBe(2);
    const device = mutations.data.find((m) => m.entityType === 'devices')!;
    const deviceId = serverIdOf(answer.body, 'devices', 'd1');
    expect(device).toMatchObject({
      index: 1,
      requestId: 'c:d1',
      entityId: deviceId,
      clientEntityId: 'd1',
      changeType: 'CREATE',
      outcome: 'applied',
      reason: null,
      before: null,
      payload: sentDevice,
    });
    expect(device.after).toMatchObject({ id: deviceId, version: 1, settings: sentDevice.settings, serialNumber: REDACTED });
    expect(device.diff).toContainEqual({ field: 'settings', before: null, after: sentDevice.settings });
    expect(device.diff).toContainEqual({ field: 'serialNumber', before: REDACTED, after: REDACTED });
    expect(device.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('an UPDATE shows the state before and after and a field diff; a changed secret keeps its entry, redacted', async () => {
    const user = uniqueUser('cap');
    const created = await pushOk(server(), user, 'phone', [
      create('devices', 'd1', { deviceName: 'Old', settings: secretSettings('dark') }),
    ]);
    const id = serverIdOf(created, 'devices', 'd1');
    await pushOk(server(), user, 'phone', [
      update('devices', id, 1, { deviceName: 'New', settings: { ...secretSettings('light'), apiKey: 'sk-live-SECRET123-v2' } }),
    ]);
    const list = keep(await requestsOf(server(), `userId=${user}`));
    expect(list.total).toBe(2);
    const latest = list.data[0]!;
    const [mutation] = keep(await mutationsOf(server(), latest.id)).data as [CapturedMutation];
    expect(mutation).toMatchObject({ changeType: 'UPDATE', outcome: 'applied', entityId: id, clientEntityId: id });
    expect(mutation.before).toMatchObject({ id, version: 1, deviceName: 'Old', settings: { theme: 'dark', apiKey: REDACTED } });
    expect(mutation.after).toMatchObject({ id, version: 2, deviceName: 'New', settings: { theme: 'light', apiKey: REDACTED } });
    const fields = mutation.diff.map((d) => d.field).sort();
    expect(fields).toEqual(['deviceName', 'settings', 'updatedAt', 'version'].sort());
    expect(mutation.diff).toContainEqual({ field: 'deviceName', before: 'Old', after: 'New' });
    expect(mutation.diff).toContainEqual({ field: 'version', before: 1, after: 2 });
    expect(mutation.diff).toContainEqual({
      field: 'settings',
      before: { theme: 'dark', apiKey: REDACTED, nested: { password: REDACTED, keep: 'visible' } },
      after: { theme: 'light', apiKey: REDACTED, nested: { password: REDACTED, keep: 'visible' } },
    });

    // Only the secret changed: the diff still lists the field, both sides redacted inside.
    await pushOk(server(), user, 'phone', [update('devices', id, 2, { settings: { ...secretSettings('light'), apiKey: 'rotated' } })]);
    const newest = (await requestsOf(server(), `userId=${user}`)).data[0]!;
    const [secretOnly] = (await mutationsOf(server(), newest.id)).data as [CapturedMutation];
    const settingsDiff = secretOnly.diff.find((d) => d.field === 'settings');
    expect(settingsDiff).toEqual({
      field: 'settings',
      before: { theme: 'light', apiKey: REDACTED, nested: { password: REDACTED, keep: 'visible' } },
      after: { theme: 'light', apiKey: REDACTED, nested: { password: REDACTED, keep: 'visible' } },
    });
  });

  it('a 250-change push pages its mutations by 100 in the order sent', async () => {
    const user = uniqueUser('cap');
    await pushOk(server(), user, 'tablet', productCreates('bulk', 250));
    const summary = await onlyCaptureOf(server(), user);
    expect(summary.mutationCount).toBe(250);
    const pages = [];
    for (const page of [1, 2, 3]) pages.push(await mutationsOf(server(), summary.id, `?page=${page}&perPage=100`));
    expect(pages.map((p) => p.data.length)).toEqual([100, 100, 50]);
    expect(pages.map((p) => [p.page, p.perPage, p.total])).toEqual([
      [1, 100, 250],
      [2, 100, 250],
      [3, 100, 250],
    ]);
    expect(pages.flatMap((p) => p.data.map((m) => m.index))).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(pages[2]!.data.at(-1)).toMatchObject({ requestId: 'bulk-r249', payload: { name: 'bulk 249' }, outcome: 'applied' });
    // perPage defaults to 50 and is clamped to 100; a page past the end is empty.
    const firstDefault = await mutationsOf(server(), summary.id);
    expect([firstDefault.data.length, firstDefault.perPage]).toEqual([50, 50]);
    const clamped = await mutationsOf(server(), summary.id, '?perPage=1000');
    expect([clamped.data.length, clamped.perPage]).toEqual([100, 100]);
    expect((await mutationsOf(server(), summary.id, '?page=4&perPage=100')).data).toEqual([]);
  });

  it('a partial push: conflicts and failures per mutation, counts and outcome', async () => {
    const user = uniqueUser('cap');
    const created = await pushOk(server(), user, 'phone', [create('goals', 'g1', { name: 'Run', currentValue: 1 })]);
    const goalId = serverIdOf(created, 'goals', 'g1');
    await pushOk(server(), user, 'tablet', [update('goals', goalId, 1, { currentValue: 5 })]);
    const partial = await pushOk(server(), user, 'phone', [
      update('goals', goalId, 1, { name: 'Walk' }, 'stale'),
      create('purchases', 'pu1', { quantityPurchased: 1, productId: 'missing' }, 'fk'),
      create('products', 'bad', { name: 42 }, 'invalid'),
    ]);
    expect(partial.conflicts).toHaveLength(1);
    expect(partial.failed).toHaveLength(2);

    const summary = (await requestsOf(server(), `userId=${user}&clientId=phone`)).data[0]!;
    expect(summary).toMatchObject({ httpStatus: 207, outcome: 'partial', mutationCount: 3, conflictCount: 1, failureCount: 2 });
    const { data } = keep(await mutationsOf(server(), summary.id));
    const byRequest = Object.fromEntries(data.map((m) => [m.requestId, m]));
    expect(byRequest['stale']).toMatchObject({
      outcome: 'conflict',
      entityId: goalId,
      reasonCode: 'VERSION_CONFLICT',
      reason: 'VERSION_CONFLICT: client version 1 is behind server version 2',
    });
    expect(byRequest['stale']!.before).toMatchObject({ name: 'Run', currentValue: 5, version: 2 });
    expect(byRequest['stale']!.after).toMatchObject({ name: 'Walk', currentValue: 5, version: 3 });
    expect(byRequest['stale']!.diff).toContainEqual({ field: 'name', before: 'Run', after: 'Walk' });
    expect(byRequest['fk']).toMatchObject({ outcome: 'rejected', entityId: null, clientEntityId: 'pu1', reasonCode: 'FK_NOT_FOUND', before: null, after: null, diff: [] });
    expect(byRequest['invalid']).toMatchObject({ outcome: 'rejected', reasonCode: 'VALIDATION_ERROR' });
    expect(byRequest['invalid']!.reason).toMatch(/^VALIDATION_ERROR: /);
    expect((byRequest['invalid']!.reasonDetail as { details: unknown[] }).details.length).toBeGreaterThan(0);
  });

  it('pulls and full syncs are captured with the changes they returned', async () => {
    const user = uniqueUser('cap');
    await pushOk(server(), user, 'phone', productCreates('p', 3));
    const pulled = await server().request<{ changes: unknown[] }>('GET', `/api/v1/sync/changes?deviceId=tablet&limit=2&token=${SECRETS.query}&apiKey=${SECRETS.query}`, { user });
    expect(pulled.status).toBe(200);
    const full = await server().request('POST', '/api/v1/sync/full', {
      user,
      body: { syncOperationId: randomUUID(), deviceId: 'laptop', changes: [create('products', 'f1', { name: 'Full' })] },
    });
    expect(full.status).toBe(200);

    const pull = keep((await requestsOf(server(), `userId=${user}&kind=pull`)).data);
    expect(pull).toHaveLength(1);
    expect(pull[0]).toMatchObject({ kind: 'pull', clientId: 'tablet', httpStatus: 200, outcome: 'success', mutationCount: 0, snapshotCount: 2 });
    const pullDetail = keep(await detailOf(server(), pull[0]!.id));
    expect((pullDetail.request as { url: string }).url).toBe('/api/v1/sync/changes?deviceId=tablet&limit=2&token=%5BREDACTED%5D&apiKey=%5BREDACTED%5D');
    expect((pullDetail.response as { body: unknown }).body).toEqual(pulled.body);

    const fulls = (await requestsOf(server(), `userId=${user}&kind=full`)).data;
    expect(fulls).toHaveLength(1);
    // The full sync's pull leaves out the laptop's own change: 3 of the 4 products.
    expect(fulls[0]).toMatchObject({ kind: 'full', clientId: 'laptop', mutationCount: 1, snapshotCount: 3, outcome: 'success' });
    expect((await requestsOf(server(), `userId=${user}&kind=push`)).total).toBe(1);
  });

  it('error answers of sync routes are captured too: 400, 409, 429; a 401 has no user and is not', async () => {
    const user = uniqueUser('cap');
    const bad = await server().request('POST', '/api/v1/sync/push', {
      user,
      body: { syncOperationId: randomUUID(), deviceId: 'phone', changes: 'none', password: SECRETS.password },
    });
    expect(bad.status).toBe(400);
    await sql`insert into sync_states (user_id, device_id, lock_owner, lock_expires_at)
      values (${user}, 'locked', 'someone-else', now() + interval '1 minute')`.execute(server().database.db);
    const busy = await push(server(), user, 'locked', productCreates('busy', 1));
    expect(busy.status).toBe(409);
    const limited = await server().request('GET', `/api/v1/sync/changes?scope=catalog&leaseId=${randomUUID()}&deviceId=phone`, { user });
    expect(limited.status).toBe(429);
    const anonymous = await server().request('POST', '/api/v1/sync/push', { body: pushBody('phone', productCreates('anon', 1)) });
    expect(anonymous.status).toBe(401);

    const list = keep(await requestsOf(server(), `userId=${user}`));
    expect(list.data.map((r) => [r.kind, r.httpStatus, r.outcome, r.clientId]).sort()).toEqual(
      [
        ['push', 400, 'failed', 'phone'],
        ['push', 409, 'failed', 'locked'],
        ['pull', 429, 'failed', 'phone'],
      ].sort(),
    );
    const failedOnly = await requestsOf(server(), `userId=${user}&outcome=failed`);
    expect(failedOnly.total).toBe(3);
    const badCapture = list.data.find((r) => r.httpStatus === 400)!;
    const detail = keep(await detailOf(server(), badCapture.id));
    expect(detail.errorCode).toBe('VALIDATION_ERROR');
    expect((detail.request as { body: Record<string, unknown> }).body['password']).toBe(REDACTED);
    expect((detail.response as { body: unknown }).body).toEqual(bad.body);
    expect((await detailOf(server(), list.data.find((r) => r.httpStatus === 409)!.id)).errorCode).toBe('SYNC_IN_PROGRESS');
  });

  it('an idempotent replay is captured with the stored answer and the changes it named', async () => {
    const user = uniqueUser('cap');
    const op = randomUUID();
    await pushOk(server(), user, 'phone', productCreates('idem', 2), { syncOperationId: op });
    const again = await push(server(), user, 'phone', productCreates('idem', 2), { syncOperationId: op });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const [replayed] = (await requestsOf(server(), `userId=${user}`)).data;
    expect(replayed).toMatchObject({ mutationCount: 2, outcome: 'success', httpStatus: 200 });
    const { data } = await mutationsOf(server(), replayed!.id);
    expect(data.map((m) => [m.index, m.outcome, m.reasonCode])).toEqual([
      [0, 'applied', 'IDEMPOTENT_REPLAY'],
      [1, 'applied', 'IDEMPOTENT_REPLAY'],
    ]);
  });

  it('changes carrying NUL or an unpaired surrogate (which jsonb cannot store) are rejected and still captured, with the rest of their batch', async () => {
    const user = uniqueUser('cap');
    const result = await pushOk(server(), user, 'phone', [
      create('products', 'ok', { name: 'Fine' }),
      create('products', 'nul', { name: 'bad\u0000name' }),
      create('products', 'surrogate', { name: 'bad\ud800name', '\udc00': 1 }),
    ]);
    expect([result.successful.length, result.failed.length]).toEqual([1, 2]);
    expect(result.failed.map((f) => [f.error.code, f.retryable])).toEqual([
      ['VALIDATION_ERROR', false],
      ['VALIDATION_ERROR', false],
    ]);
    const summary = await onlyCaptureOf(server(), user);
    expect(summary).toMatchObject({ mutationCount: 3, failureCount: 2, outcome: 'partial' });
    const { data } = await mutationsOf(server(), summary.id);
    expect(data.map((m) => m.outcome)).toEqual(['applied', 'rejected', 'rejected']);
    expect(data[1]!.payload).toEqual({ name: 'bad\ufffdname' });
    expect(data[2]!.payload).toEqual({ name: 'bad\ufffdname', '\ufffd': 1 });
    const detail = await dashboardOk<{ request: { body: { changes: unknown[] } } }>(server(), `/api/requests/${summary.id}`);
    expect(detail.request.body.changes).toHaveLength(3);
  });

  it('lists filter by kind, outcome, clientId and userId, newest first, paged', async () => {
    const user = uniqueUser('cap');
    for (const device of ['a', 'b', 'a']) await pushOk(server(), user, device, productCreates(`${device}-${randomUUID()}`, 1));
    await server().request('GET', '/api/v1/sync/changes?deviceId=b', { user });
    const all = await requestsOf(server(), `userId=${user}&perPage=2`);
    expect([all.total, all.data.length, all.page, all.perPage]).toEqual([4, 2, 1, 2]);
    const second = await requestsOf(server(), `userId=${user}&perPage=2&page=2`);
    const ordered = [...all.data, ...second.data];
    expect(ordered.map((r) => r.startedAt)).toEqual([...ordered.map((r) => r.startedAt)].sort().reverse());
    expect(ordered[0]!.kind).toBe('pull');
    expect((await requestsOf(server(), `userId=${user}&clientId=a`)).total).toBe(2);
    expect((await requestsOf(server(), `userId=${user}&clientId=b&kind=push`)).total).toBe(1);
    expect((await requestsOf(server(), `userId=${user}&outcome=success&kind=pull`)).total).toBe(1);
    expect((await requestsOf(server(), `userId=${user}&outcome=partial`)).total).toBe(0);
    expect((await requestsOf(server(), `userId=${user}&perPage=500`)).perPage).toBe(100);
  });

  it('no secret reaches any dashboard answer or any log line', async () => {
    await server().app.captureFlush();
    const list = await dashboardOk<CapturedRequestList>(server(), '/api/requests?perPage=100');
    keep(list);
    for (const r of list.data) {
      keep(await dashboardOk(server(), `/api/requests/${r.id}`));
      keep(await dashboardOk(server(), `/api/requests/${r.id}/mutations?perPage=100`));
    }
    for (const path of ['/metrics', '/api/conflicts', '/api/conflicts/patterns', '/api/failures', '/api/failures/groups']) {
      keep(await dashboardOk(server(), path));
    }
    const everything = seen.join('\n');
    // The checks are not vacuous: redacted values were there to be seen.
    expect(everything).toContain(REDACTED);
    expect(everything).toContain('visible');
    expect(leakedSecrets(everything)).toEqual([]);
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(logs.lines.some((l) => l.includes('/api/v1/sync/changes'))).toBe(true);
    expect(leakedSecrets(logs.lines.join('\n'))).toEqual([]);
  });
});

describe('capture switches and lifecycle', () => {
  it('CAPTURE_ENABLED=false captures nothing and the dashboard still answers', async () => {
    await using server = await startTestServer({ env: { CAPTURE_ENABLED: 'false' } });
    const user = uniqueUser('off');
    await pushOk(server, user, 'phone', productCreates('off', 2));
    await server.app.captureFlush();
    expect((await requestsOf(server, '')).total).toBe(0);
    const { rows } = await sql<{ n: string }>`select count(*) as n from capture_requests`.execute(server.database.db);
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('closing the app writes the captures still queued', async () => {
    await using database = await createTestDatabase();
    const server = await startTestServer({ database });
    const user = uniqueUser('close');
    await pushOk(server, user, 'phone', productCreates('close', 3));
    await server.close();
    const { rows } = await sql<{ n: string; m: string }>`
      select count(*) as n, (select count(*) from captured_mutations) as m from capture_requests where user_id = ${user}`.execute(
      database.db,
    );
    expect([Number(rows[0]!.n), Number(rows[0]!.m)]).toEqual([1, 3]);
  });

  it('retention prunes captures older than CAPTURE_RETENTION_HOURS, with their mutations', async () => {
    await using server = await startTestServer({ env: { CAPTURE_RETENTION_HOURS: '2' } });
    const user = uniqueUser('old');
    await pushOk(server, user, 'phone', productCreates('old', 2));
    await pushOk(server, user, 'phone', productCreates('new', 1));
    await server.app.captureFlush();
    const db = server.database.db;
    const [oldest] = (await requestsOf(server, `userId=${user}`)).data.slice(-1);
    await sql`update capture_requests set started_at = now() - interval '3 hours' where id = ${oldest!.id}::uuid`.execute(db);
    expect(await server.app.capture.prune()).toBe(1);
    const left = await requestsOf(server, `userId=${user}`);
    expect(left.data.map((r) => r.mutationCount)).toEqual([1]);
    const { rows } = await sql<{ n: string }>`select count(*) as n from captured_mutations where capture_id = ${oldest!.id}::uuid`.execute(db);
    expect(Number(rows[0]!.n)).toBe(0);
  });
});
