import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import {
  CapturedRequestDetailSchema,
  ErrorEnvelopeSchema,
  ReplayPreviewSchema,
  ReplayResultSchema,
  type CapturedMutationList,
  type CapturedRequestDetail,
  type ReplayPreview,
  type ReplayResult,
} from '@sync-engine/shared';
import { dashboardOk, leakedSecrets, secretSettings } from '../support/capture-fixtures.ts';
import {
  dashboardPost,
  pushCaptureId,
  requestPage,
  sessionCookieFor,
  writeFootprint,
} from '../support/dashboard-fixtures.ts';
import {
  create,
  entityState,
  pushOk,
  serverIdOf,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';
import type { TestServer } from '../support/test-server.ts';

/**
 * A push worth replaying, and the world changed after it: its purchase failed (no product
 * p2 yet), its goal update applied, its product CREATE applied. Then p2 appears and another
 * device moves the goal on. Returns the capture and the ids involved.
 */
async function capturedPushThenChanges(server: TestServer) {
  const user = uniqueUser('replay');
  const device = `phone-${randomUUID().slice(0, 8)}`;
  const first = await pushOk(server, user, device, [
    create('goals', 'g1', { name: 'Run', targetValue: 10, currentValue: 1 }),
  ]);
  const goalId = serverIdOf(first, 'goals', 'g1');
  const captured = await pushOk(server, user, device, [
    create('purchases', 'pu1', { quantityPurchased: 2, productId: 'p2' }, 'buy-1'),
    update('goals', goalId, 1, { currentValue: 3 }, 'goal-3'),
    create('products', 'p3', { name: 'Chamomile' }, 'make-p3'),
  ]);
  expect(captured.failed.map((f) => [f.requestId, f.error.code])).toEqual([
    ['buy-1', 'FK_NOT_FOUND'],
  ]);
  const captureId = await pushCaptureId(server, user);
  const later = await pushOk(server, user, 'tablet', [
    create('products', 'p2', { name: 'Rooibos' }),
    update('goals', goalId, 2, { name: 'Walk', currentValue: 5 }),
  ]);
  return {
    user,
    device,
    goalId,
    captureId,
    p2: serverIdOf(later, 'products', 'p2'),
    p3: serverIdOf(captured, 'products', 'p3'),
  };
}

function errorCode(body: unknown): string {
  return ErrorEnvelopeSchema.parse(body).error.code;
}

describeEachDatabase('dashboard replay', (target) => {
  const live = useSharedServer(target, { env: { DASHBOARD_REPLAY_LIVE: 'true' } });
  const off = useSharedServer(target);

  it('preview says what each captured mutation would do now, and writes nothing', async () => {
    const { user, goalId, captureId, p2, p3 } = await capturedPushThenChanges(live());
    await live().app.captureFlush();
    const captures = () => dashboardOk<{ total: number }>(live(), `/api/requests?userId=${user}`);
    const capturedBefore = (await captures()).total;
    const footprint = await writeFootprint(live(), user);
    const goalBefore = await entityState(live().database.db, 'goals', user, goalId);

    const answer = await dashboardPost<ReplayPreview>(
      live(),
      `/api/requests/${captureId}/replay/preview`,
    );
    expect(answer.status).toBe(200);
    const preview = ReplayPreviewSchema.parse(answer.body);
    expect(preview.requestId).toBe(captureId);
    expect(preview.mutations.map((m) => [m.index, m.entityType, m.outcome])).toEqual([
      [0, 'purchases', 'applied'],
      [1, 'goals', 'conflict'],
      [2, 'products', 'skipped'],
    ]);
    const [purchase, goal, product] = preview.mutations;
    // The purchase's product exists now: it would be created, its FK resolved to p2's server id.
    expect(purchase!.before).toBeNull();
    expect(purchase!.after).toMatchObject({ productId: p2, quantityPurchased: 2, version: 1 });
    expect(purchase!.diff).toContainEqual({ field: 'quantityPurchased', before: null, after: 2 });
    // The goal moved on to version 3: the update is stale, MAX_VALUE keeps 5.
    expect(goal!.reason).toBe('VERSION_CONFLICT: client version 1 is behind server version 3');
    expect(goal!.before).toMatchObject({ id: goalId, version: 3, currentValue: 5, name: 'Walk' });
    expect(goal!.entityId).toBe(goalId);
    // p3 is mapped already: the CREATE would be a duplicate.
    expect(product).toMatchObject({ entityId: p3, reason: 'DUPLICATE_CREATE', diff: [] });

    expect(await writeFootprint(live(), user)).toEqual(footprint);
    expect(await entityState(live().database.db, 'goals', user, goalId)).toEqual(goalBefore);
    // Previewing is not a sync: nothing new is captured either.
    await live().app.captureFlush();
    expect((await captures()).total).toBe(capturedBefore);
  });

  it('live replay is refused with 403 REPLAY_DISABLED unless DASHBOARD_REPLAY_LIVE=true, even confirmed', async () => {
    const user = uniqueUser('replay-off');
    await pushOk(off(), user, 'phone', [create('products', 'p1', { name: 'Tea' })]);
    const captureId = await pushCaptureId(off(), user);
    const footprint = await writeFootprint(off(), user);
    for (const body of [{ confirm: true }, undefined]) {
      const answer = await dashboardPost(off(), `/api/requests/${captureId}/replay`, body);
      expect(answer.status).toBe(403);
      expect(errorCode(answer.body)).toBe('REPLAY_DISABLED');
    }
    expect(
      (await dashboardPost(off(), `/api/requests/${randomUUID()}/replay`, { confirm: true }))
        .status,
    ).toBe(403);
    expect(await writeFootprint(off(), user)).toEqual(footprint);
    // The preview stays available: it writes nothing.
    expect((await dashboardPost(off(), `/api/requests/${captureId}/replay/preview`)).status).toBe(
      200,
    );
  });

  it('live replay without {confirm: true} is 400 VALIDATION_ERROR and applies nothing', async () => {
    const user = uniqueUser('replay-confirm');
    await pushOk(live(), user, 'phone', [create('products', 'p1', { name: 'Tea' })]);
    const captureId = await pushCaptureId(live(), user);
    const footprint = await writeFootprint(live(), user);
    for (const body of [undefined, {}, { confirm: false }, { confirm: 'true' }, { confirm: 1 }]) {
      const answer = await dashboardPost(live(), `/api/requests/${captureId}/replay`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(errorCode(answer.body)).toBe('VALIDATION_ERROR');
    }
    expect(await writeFootprint(live(), user)).toEqual(footprint);
  });

  it('an unknown, malformed or pull capture is 404 NOT_FOUND for preview and replay', async () => {
    const user = uniqueUser('replay-404');
    const pulled = await live().request('GET', '/api/v1/sync/changes?deviceId=phone', { user });
    expect(pulled.status).toBe(200);
    await live().app.captureFlush();
    const list = await dashboardOk<{ data: { id: string }[] }>(
      live(),
      `/api/requests?userId=${user}&kind=pull`,
    );
    const pullId = list.data[0]!.id;
    for (const id of [randomUUID(), 'not-a-uuid', pullId]) {
      for (const path of [`/api/requests/${id}/replay/preview`, `/api/requests/${id}/replay`]) {
        const answer = await dashboardPost(
          live(),
          path,
          path.endsWith('preview') ? undefined : { confirm: true },
        );
        expect(answer.status, path).toBe(404);
        expect(errorCode(answer.body)).toBe('NOT_FOUND');
      }
    }
  });

  it('live replay pushes a clone as the captured user and device; original and replay link to each other', async () => {
    const { user, device, captureId, p2 } = await capturedPushThenChanges(live());
    await live().app.captureFlush();
    const originalBefore = await dashboardOk<CapturedRequestDetail>(
      live(),
      `/api/requests/${captureId}`,
    );
    const originalMutations = await dashboardOk<CapturedMutationList>(
      live(),
      `/api/requests/${captureId}/mutations`,
    );
    const purchasesBefore = (await writeFootprint(live(), user))['purchases'];

    const answer = await dashboardPost<ReplayResult>(live(), `/api/requests/${captureId}/replay`, {
      confirm: true,
    });
    expect(answer.status).toBe(201);
    const result = ReplayResultSchema.parse(answer.body);
    expect(result.originalRequestId).toBe(captureId);
    expect(result.syncOperationId).not.toBe(originalBefore.syncOperationId);

    // The clone was applied for the captured user: the purchase now goes through.
    expect((await writeFootprint(live(), user))['purchases']).toBe(purchasesBefore! + 1);
    const applied = await sql<{ device_id: string; request_id: string }>`
      select device_id, request_id from sync_applied_requests where user_id = ${user} and request_id like 'replay-%'`.execute(
      live().database.db,
    );
    expect(applied.rows.length).toBeGreaterThan(0);
    expect(new Set(applied.rows.map((r) => r.device_id))).toEqual(new Set([device]));

    // The replay is a capture of its own, readable as soon as the 201 is in.
    const replay = CapturedRequestDetailSchema.parse(
      await dashboardOk(live(), `/api/requests/${result.replayRequestId}`),
    );
    expect(replay).toMatchObject({
      kind: 'push',
      userId: user,
      clientId: device,
      replayOf: captureId,
      syncOperationId: result.syncOperationId,
    });
    const sent = (
      replay.request as { body: { syncOperationId: string; changes: { requestId: string }[] } }
    ).body;
    const originalSent = (originalBefore.request as { body: { changes: { requestId: string }[] } })
      .body;
    expect(sent.syncOperationId).toBe(result.syncOperationId);
    expect(sent.changes).toHaveLength(originalSent.changes.length);
    for (const [i, change] of sent.changes.entries())
      expect(change.requestId).not.toBe(originalSent.changes[i]!.requestId);
    const replayMutations = await dashboardOk<CapturedMutationList>(
      live(),
      `/api/requests/${result.replayRequestId}/mutations`,
    );
    expect(replayMutations.data.map((m) => [m.entityType, m.outcome])).toEqual([
      ['purchases', 'applied'],
      ['goals', 'conflict'],
      ['products', 'skipped'],
    ]);
    expect(replayMutations.data[0]!.after).toMatchObject({ productId: p2 });

    // The original is untouched, and lists its replay.
    const originalAfter = await dashboardOk<CapturedRequestDetail>(
      live(),
      `/api/requests/${captureId}`,
    );
    expect({ ...originalAfter, replays: [] }).toEqual({ ...originalBefore, replays: [] });
    expect(originalAfter.replays.map((r) => [r.id, r.replayOf])).toEqual([
      [result.replayRequestId, captureId],
    ]);
    expect(await dashboardOk(live(), `/api/requests/${captureId}/mutations`)).toEqual(
      originalMutations,
    );

    // A second replay is one more linked capture; this time the purchase is a duplicate.
    const again = ReplayResultSchema.parse(
      (await dashboardPost(live(), `/api/requests/${captureId}/replay`, { confirm: true })).body,
    );
    const replays = (await dashboardOk<CapturedRequestDetail>(live(), `/api/requests/${captureId}`))
      .replays;
    expect(replays.map((r) => r.id)).toEqual([result.replayRequestId, again.replayRequestId]);
    const againMutations = await dashboardOk<CapturedMutationList>(
      live(),
      `/api/requests/${again.replayRequestId}/mutations`,
    );
    expect(againMutations.data[0]!.outcome).toBe('skipped');
  });

  it('a live replay that cannot run (the device is mid-sync: 409) is captured as a failed attempt the original lists', async () => {
    const { user, device, captureId } = await capturedPushThenChanges(live());
    await sql`update sync_states set lock_owner = 'another-sync', lock_expires_at = now() + interval '1 minute'
      where user_id = ${user} and device_id = ${device}`.execute(live().database.db);
    const purchasesBefore = (await writeFootprint(live(), user))['purchases'];

    const answer = await dashboardPost(live(), `/api/requests/${captureId}/replay`, { confirm: true });
    expect(answer.status).toBe(409);
    expect(ErrorEnvelopeSchema.parse(answer.body).error.code).toBe('SYNC_IN_PROGRESS');
    expect((await writeFootprint(live(), user))['purchases']).toBe(purchasesBefore);

    const [attempt, ...more] = (await dashboardOk<CapturedRequestDetail>(live(), `/api/requests/${captureId}`)).replays;
    expect(more).toEqual([]);
    expect(attempt).toMatchObject({ replayOf: captureId, httpStatus: 409, outcome: 'failed', userId: user, clientId: device });
    const detail = CapturedRequestDetailSchema.parse(await dashboardOk(live(), `/api/requests/${attempt!.id}`));
    expect(detail.errorCode).toBe('SYNC_IN_PROGRESS');
    expect((detail.response as { body: { error: { code: string } } }).body.error.code).toBe('SYNC_IN_PROGRESS');
    expect((detail.request as { body: { changes: unknown[] } }).body.changes).toHaveLength(3);
  });

  it('a capture whose changes were redacted cannot be replayed: 422 REPLAY_UNAVAILABLE naming the field', async () => {
    const user = uniqueUser('replay-redacted');
    await pushOk(live(), user, 'phone', [
      create('devices', 'd1', { deviceName: 'Pixel', settings: secretSettings() }),
    ]);
    const captureId = await pushCaptureId(live(), user);
    const footprint = await writeFootprint(live(), user);
    for (const [path, body] of [
      [`/api/requests/${captureId}/replay/preview`, undefined],
      [`/api/requests/${captureId}/replay`, { confirm: true }],
    ] as const) {
      const answer = await dashboardPost(live(), path, body);
      expect(answer.status, path).toBe(422);
      const error = ErrorEnvelopeSchema.parse(answer.body).error;
      expect(error.code).toBe('REPLAY_UNAVAILABLE');
      expect(error.message).toContain('changes[0].changeData.settings.apiKey');
      expect(leakedSecrets(JSON.stringify(answer.body))).toEqual([]);
    }
    expect(await writeFootprint(live(), user)).toEqual(footprint);
  });

  it('replay routes need an admin: 401 without a credential, 403 for a user', async () => {
    const id = randomUUID();
    for (const path of [`/api/requests/${id}/replay/preview`, `/api/requests/${id}/replay`]) {
      const url = `${live().config.dashboardPrefix}${path}`;
      const anonymous = await live().request('POST', url, { body: { confirm: true } });
      expect(anonymous.status, path).toBe(401);
      expect(errorCode(anonymous.body)).toBe('UNAUTHENTICATED');
      const user = await live().request('POST', url, { user: 'plain', body: { confirm: true } });
      expect(user.status, path).toBe(403);
      expect(errorCode(user.body)).toBe('FORBIDDEN');
    }
  });

  it('the live replay form needs its confirmation box, then opens the replay, which links back', async () => {
    const user = uniqueUser('replay-form');
    await pushOk(live(), user, 'phone', [create('products', 'p1', { name: 'Tea' })]);
    const captureId = await pushCaptureId(live(), user);
    const cookie = await sessionCookieFor(live());

    const unconfirmed = await requestPage(live(), `/requests/${captureId}/replay`, {
      cookie,
      form: {},
    });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.text).toContain('Tick the confirmation');

    const elsewhere = await requestPage(live(), `/requests/${captureId}/replay`, {
      cookie,
      form: { confirm: 'true' },
      headers: { origin: 'https://evil.example' },
    });
    expect(elsewhere.status).toBe(403);

    const done = await requestPage(live(), `/requests/${captureId}/replay`, {
      cookie,
      form: { confirm: 'true' },
    });
    expect(done.status).toBe(303);
    const location = done.headers.get('location') ?? '';
    expect(location).toMatch(
      new RegExp(`^${live().config.dashboardPrefix}/requests/[0-9a-f-]{36}$`),
    );
    const replayId = location.split('/').pop()!;
    const replayPage = await requestPage(live(), `/requests/${replayId}`, { cookie });
    expect(replayPage.status).toBe(200);
    expect(replayPage.text).toContain(
      `href="${live().config.dashboardPrefix}/requests/${captureId}"`,
    );
    const originalPage = await requestPage(live(), `/requests/${captureId}`, { cookie });
    expect(originalPage.text).toContain(`data-capture-id="${replayId}"`);
  });
});
