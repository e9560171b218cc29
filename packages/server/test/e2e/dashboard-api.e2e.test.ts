import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  ConflictPatternsSchema,
  DashboardConflictListSchema,
  DashboardFailureListSchema,
  ErrorEnvelopeSchema,
  FailureGroupsSchema,
  REDACTED,
  type CapturedRequestList,
  type ConflictPatterns,
  type DashboardConflictList,
  type DashboardFailureList,
  type FailureGroups,
} from '@sync-engine/shared';
import { DASHBOARD_SESSION_COOKIE } from '@sync-engine/dashboard';
import { createTokenService } from '../../src/http/auth-tokens.ts';
import { SECRETS, dashboardGet, dashboardOk, leakedSecrets, secretSettings } from '../support/capture-fixtures.ts';
import { MANUAL_GOALS, resolveConflicts } from '../support/conflict-fixtures.ts';
import { conflictOf, create, pushOk, serverIdOf, uniqueUser, update, useSharedServer } from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import type { TestServer } from '../support/test-server.ts';

const ROUTES = [
  '/metrics',
  '/api/requests',
  `/api/requests/${randomUUID()}`,
  `/api/requests/${randomUUID()}/mutations`,
  '/api/conflicts',
  '/api/conflicts/patterns',
  '/api/failures',
  '/api/failures/groups',
];

async function captureIdOf(server: TestServer, user: string, syncIndex: number): Promise<string> {
  await server.app.captureFlush();
  const list = await dashboardOk<CapturedRequestList>(server, `/api/requests?userId=${user}&kind=push`);
  // Newest first: index 0 is the latest push.
  return list.data[syncIndex]!.id;
}

describeEachDatabase('dashboard JSON API', (target) => {
  const server = useSharedServer(target, { conflictConfig: MANUAL_GOALS });
  const prefix = () => server().config.dashboardPrefix;

  it('needs an admin: no or an invalid credential is 401, a non-admin 403, on every route', async () => {
    const wrongKey = await createTokenService('another-secret-0123456789-abcdefghijklmnop').issue('ops', { admin: true });
    for (const route of ROUTES) {
      const path = `${prefix()}${route}`;
      for (const token of [undefined, 'not-a-jwt', wrongKey]) {
        const answer = await server().request('GET', path, token === undefined ? {} : { token });
        expect(answer.status, `${route} with ${token ?? 'nothing'}`).toBe(401);
        const body = ErrorEnvelopeSchema.parse(answer.body);
        expect(body.error.code).toBe('UNAUTHENTICATED');
        expect(body.error.correlationId).toBe(answer.headers.get('x-correlation-id'));
      }
      const user = await server().request('GET', path, { user: 'plain-user' });
      expect(user.status, route).toBe(403);
      expect(ErrorEnvelopeSchema.parse(user.body).error.code).toBe('FORBIDDEN');
      const admin = await server().request('GET', path, { user: 'ops', admin: true });
      expect([200, 404], route).toContain(admin.status);
    }
  });

  it('accepts the session cookie of the login page: an admin token in it is 200, a user token 403', async () => {
    const path = `${prefix()}/api/requests`;
    const admin = await server().token('ops', { admin: true });
    const plain = await server().token('someone');
    const ok = await server().request('GET', path, { headers: { cookie: `theme=dark; ${DASHBOARD_SESSION_COOKIE}=${admin}` } });
    expect(ok.status).toBe(200);
    const forbidden = await server().request('GET', path, { headers: { cookie: `${DASHBOARD_SESSION_COOKIE}=${plain}` } });
    expect(forbidden.status).toBe(403);
    const invalid = await server().request('GET', path, { headers: { cookie: `${DASHBOARD_SESSION_COOKIE}=garbage` } });
    expect(invalid.status).toBe(401);
  });

  it('an unknown or malformed capture id is 404; a bad filter or page is 400', async () => {
    for (const path of [`/api/requests/${randomUUID()}`, '/api/requests/not-a-uuid', `/api/requests/${randomUUID()}/mutations`]) {
      const answer = await dashboardGet(server(), path);
      expect(answer.status, path).toBe(404);
      expect(ErrorEnvelopeSchema.parse(answer.body).error.code).toBe('NOT_FOUND');
    }
    for (const path of ['/api/requests?kind=delete', '/api/requests?page=0', '/api/requests?outcome=meh', '/metrics?window=forever']) {
      const answer = await dashboardGet(server(), path);
      expect(answer.status, path).toBe(400);
      expect(ErrorEnvelopeSchema.parse(answer.body).error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('conflicts: every one, linked to its capture, payloads redacted, status live; patterns per model and client', async () => {
    const user = uniqueUser('dash');
    const device = `phone-${randomUUID().slice(0, 8)}`;
    const created = await pushOk(server(), user, device, [
      create('goals', 'g1', { name: 'A', targetValue: 10, currentValue: 1 }),
      create('devices', 'd1', { deviceName: 'Pixel', settings: secretSettings() }),
    ]);
    const goalId = serverIdOf(created, 'goals', 'g1');
    const deviceId = serverIdOf(created, 'devices', 'd1');
    await pushOk(server(), user, 'other', [
      update('goals', goalId, 1, { name: 'B' }),
      update('devices', deviceId, 1, { deviceName: 'Renamed' }),
    ]);
    const stale = [
      update('goals', goalId, 1, { name: 'C' }, 'stale-goal'),
      update('devices', deviceId, 1, { settings: { ...secretSettings('light'), apiKey: 'sk-live-SECRET123-new' } }, 'stale-device'),
    ];
    const answer = await pushOk(server(), user, device, stale);
    const goalConflict = conflictOf(answer, 'stale-goal');
    const deviceConflict = conflictOf(answer, 'stale-device');
    const captureId = await captureIdOf(server(), user, 0);

    const list = await dashboardOk<DashboardConflictList>(server(), `/api/conflicts?clientId=${device}`);
    DashboardConflictListSchema.parse(list);
    expect([list.total, list.page, list.perPage]).toEqual([2, 1, 50]);
    const byId = Object.fromEntries(list.data.map((c) => [c.conflictId, c]));
    expect(byId[goalConflict.conflictId]).toMatchObject({
      captureId,
      model: 'goals',
      clientId: device,
      userId: user,
      entityId: goalId,
      strategy: 'MANUAL',
      outcome: 'MANUAL_REQUIRED',
      status: 'PENDING',
      clientPayload: { name: 'C' },
      reason: 'VERSION_CONFLICT: client version 1 is behind server version 2',
    });
    expect(byId[goalConflict.conflictId]!.serverState).toMatchObject({ id: goalId, name: 'B', version: 2 });
    expect(byId[deviceConflict.conflictId]).toMatchObject({
      captureId,
      model: 'devices',
      entityId: deviceId,
      strategy: 'SERVER_WINS',
      outcome: 'ADOPT_SERVER',
      status: 'RESOLVED',
      clientPayload: { settings: { theme: 'light', apiKey: REDACTED, nested: { password: REDACTED, keep: 'visible' } } },
    });
    expect(byId[deviceConflict.conflictId]!.serverState).toMatchObject({ deviceName: 'Renamed', settings: { apiKey: REDACTED } });
    expect(leakedSecrets(JSON.stringify(list))).toEqual([]);

    const goalsOnly = await dashboardOk<DashboardConflictList>(server(), `/api/conflicts?clientId=${device}&model=goals`);
    expect(goalsOnly.data.map((c) => c.conflictId)).toEqual([goalConflict.conflictId]);

    // Resolving it is visible at once: the list reads the conflict's live status.
    await resolveConflicts(server(), user, [{ conflictId: goalConflict.conflictId, strategy: 'REMOTE_WINS' }]);
    const after = await dashboardOk<DashboardConflictList>(server(), `/api/conflicts?clientId=${device}&model=goals`);
    expect(after.data[0]!.status).toBe('RESOLVED');

    // A second goal conflict from the same client: goals lead the patterns.
    await pushOk(server(), user, device, [update('goals', goalId, 1, { name: 'D' })]);
    const patterns = await dashboardOk<ConflictPatterns>(server(), '/api/conflicts/patterns');
    ConflictPatternsSchema.parse(patterns);
    const mine = patterns.data.filter((p) => p.clientId === device);
    expect(mine.map((p) => [p.model, p.count])).toEqual([
      ['goals', 2],
      ['devices', 1],
    ]);
    const newest = await dashboardOk<DashboardConflictList>(server(), `/api/conflicts?clientId=${device}&model=goals`);
    expect(mine[0]!.lastSeenAt).toBe(newest.data[0]!.createdAt);
  });

  it('failures: each failed change with code, message, details and redacted payload; groups with the latest sample', async () => {
    const device = `tab-${randomUUID().slice(0, 8)}`;
    const user = uniqueUser('dash');
    await pushOk(server(), user, device, [create('purchases', 'pu1', { quantityPurchased: 1, productId: 'nope-1' })]);
    await pushOk(server(), user, device, [
      create('purchases', 'pu2', { quantityPurchased: 2, productId: 'nope-2' }),
      create('products', 'bad', { name: 'X', password: SECRETS.password }),
    ]);
    const [latestCapture, firstCapture] = [await captureIdOf(server(), user, 0), await captureIdOf(server(), user, 1)];

    const all = await dashboardOk<DashboardFailureList>(server(), `/api/failures?clientId=${device}`);
    DashboardFailureListSchema.parse(all);
    expect(all.total).toBe(3);
    const invalid = all.data.find((f) => f.model === 'products')!;
    expect(invalid).toMatchObject({
      id: `${latestCapture}:1`,
      captureId: latestCapture,
      clientId: device,
      userId: user,
      entityId: 'bad',
      code: 'VALIDATION_ERROR',
      message: 'changeData is invalid',
      payload: { name: 'X', password: REDACTED },
    });
    expect(invalid.details.length).toBeGreaterThan(0);
    expect(invalid.details.some((d) => d.field.includes('password'))).toBe(true);

    const fk = await dashboardOk<DashboardFailureList>(server(), `/api/failures?clientId=${device}&code=FK_NOT_FOUND`);
    expect(fk.data.map((f) => [f.captureId, f.model, f.entityId])).toEqual([
      [latestCapture, 'purchases', 'pu2'],
      [firstCapture, 'purchases', 'pu1'],
    ]);
    expect((await dashboardOk<DashboardFailureList>(server(), `/api/failures?clientId=${device}&model=products`)).total).toBe(1);

    const groups = await dashboardOk<FailureGroups>(server(), '/api/failures/groups');
    FailureGroupsSchema.parse(groups);
    const mine = groups.data.filter((g) => g.clientId === device);
    expect(mine.map((g) => [g.model, g.code, g.count])).toEqual([
      ['purchases', 'FK_NOT_FOUND', 2],
      ['products', 'VALIDATION_ERROR', 1],
    ]);
    expect(mine[0]!.sample).toEqual(fk.data[0]);
    expect(mine[0]!.lastSeenAt).toBe(fk.data[0]!.createdAt);
    expect(leakedSecrets(JSON.stringify([all, groups]))).toEqual([]);
  });
});
