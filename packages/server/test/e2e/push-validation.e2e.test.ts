import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorEnvelopeSchema } from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  countRows,
  create,
  entityStates,
  failureOf,
  productCreates,
  push,
  pushBody,
  pushOk,
  successOf,
  syncChanges,
  uniqueUser,
  useSharedServer,
  type ChangeBody,
} from '../support/push-fixtures.ts';

const PUSH = '/api/v1/sync/push';

describeEachDatabase('push: validation and answer shape', (target) => {
  const server = useSharedServer(target);

  describe('a change that fails validation fails alone with field-level details', () => {
    const cases: {
      name: string;
      change: (id: string) => ChangeBody;
      field: string;
      message: RegExp;
    }[] = [
      {
        name: 'an unknown field',
        change: (id) => create('products', id, { name: 'x', colour: 'red' }),
        field: 'changeData.colour',
        message: /unknown field/,
      },
      {
        name: 'a bad enum value',
        change: (id) => create('sessions', id, { status: 'SLEEPING' }),
        field: 'changeData.status',
        message: /.+/,
      },
      {
        name: 'a string longer than its limit',
        change: (id) => create('products', id, { name: 'n'.repeat(201) }),
        field: 'changeData.name',
        message: /.+/,
      },
      {
        name: 'a NUL character in a string',
        change: (id) => create('products', id, { name: 'nul\u0000here' }),
        field: 'changeData.name',
        message: /NUL/,
      },
      {
        name: 'a NUL character nested in an object field',
        change: (id) => create('devices', id, { settings: { theme: { name: 'da\u0000rk' } } }),
        field: 'changeData.settings.theme.name',
        message: /NUL/,
      },
      {
        name: 'an unpaired surrogate in a string (a lone \\ud800 escape)',
        change: (id) => create('products', id, { name: 'half \ud83d of an emoji' }),
        field: 'changeData.name',
        message: /surrogate/,
      },
      {
        name: 'an unpaired surrogate nested in an object field',
        change: (id) => create('devices', id, { settings: { theme: ['ok', '\udc00'] } }),
        field: 'changeData.settings.theme.1',
        message: /surrogate/,
      },
      {
        name: 'a NUL character in a field name',
        change: (id) => create('products', id, { name: 'x', 'na\u0000me': 'y' }),
        field: 'changeData.na\\u0000me',
        message: /unknown field/,
      },
      {
        name: 'a timestamp in year 0000, which PostgreSQL cannot store',
        change: (id) => create('consumptions', id, { intensity: 3, timestamp: '0000-06-01T00:00:00Z' }),
        field: 'changeData.timestamp',
        message: /year/,
      },
      {
        name: 'a missing required field',
        change: (id) => create('consumptions', id, { intensity: 3 }),
        field: 'changeData.timestamp',
        message: /.+/,
      },
    ];
    for (const c of cases) {
      it(`${c.name}: that change is failed (VALIDATION_ERROR, retryable false), the others in the push apply (207)`, async () => {
        const user = uniqueUser('val');
        const bad = c.change('bad-1');
        const answer = await push(server(), user, 'd1', [...productCreates('ok', 2), bad]);
        expect(answer.status).toBe(207);
        expect(answer.body.successful.map((s) => s.outcome)).toEqual(['APPLIED', 'APPLIED']);
        const failed = failureOf(answer.body, bad.requestId);
        expect(failed).toMatchObject({
          clientId: 'bad-1',
          entityId: 'bad-1',
          entityType: bad.entityType,
          retryable: false,
        });
        expect(failed.error.code).toBe('VALIDATION_ERROR');
        expect(failed.error.details?.find((d) => d.field === c.field)?.message).toMatch(c.message);
        expect(answer.body.conflicts).toEqual([]);
        expect(await countRows(server().database.db, 'products', user)).toBe(2);
        expect((await syncChanges(server().database.db, user)).map((r) => r.request_id)).toEqual([
          'ok-r0',
          'ok-r1',
        ]);
      });
    }
  });

  it('an UPDATE with a bad field fails alone and leaves the entity unchanged', async () => {
    const user = uniqueUser('val');
    const first = await pushOk(server(), user, 'd1', [
      create('goals', 'g1', { name: 'Run', currentValue: 1 }),
    ]);
    const goalId = successOf(first, 'c:g1').serverId;
    const answer = await push(server(), user, 'd1', [
      {
        requestId: 'bad',
        entityType: 'goals',
        entityId: 'g1',
        changeType: 'UPDATE',
        changeData: { currentValue: 'lots' },
        syncVersion: 1,
      },
      {
        requestId: 'good',
        entityType: 'goals',
        entityId: goalId,
        changeType: 'UPDATE',
        changeData: { name: 'Walk' },
        syncVersion: 1,
      },
    ]);
    expect(answer.status).toBe(207);
    expect(failureOf(answer.body, 'bad').error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [{ field: 'changeData.currentValue' }],
    });
    expect(successOf(answer.body, 'good')).toMatchObject({
      outcome: 'APPLIED',
      version: 2,
      serverId: goalId,
    });
    const [goal] = await entityStates(server().database.db, 'goals', user);
    expect(goal).toMatchObject({ name: 'Walk', currentValue: 1, version: 2 });
  });

  it('server-managed and server-derived fields a client sends are ignored, not stored and not an error', async () => {
    const user = uniqueUser('val');
    const result = await pushOk(server(), user, 'd1', [
      create('sessions', 's1', {
        id: 'mine',
        userId: 'someone-else',
        version: 99,
        createdAt: '2000-01-01T00:00:00Z',
        eventCount: 42,
      }),
    ]);
    expect(result.failed).toEqual([]);
    const [session] = await entityStates(server().database.db, 'sessions', user);
    expect(session).toMatchObject({ userId: user, version: 1, eventCount: 0, status: 'ACTIVE' });
    expect(session!.id).not.toBe('mine');
  });

  it('answers 200 when nothing failed or conflicted, with exactly the contract shape', async () => {
    const user = uniqueUser('val');
    const syncOperationId = randomUUID();
    const answer = await push(server(), user, 'd1', productCreates('p', 2), { syncOperationId });
    expect(answer.status).toBe(200);
    const [a, b] = answer.body.successful;
    expect(answer.body).toEqual({
      syncOperationId,
      successful: [
        {
          requestId: 'p-r0',
          clientId: 'p-0',
          entityType: 'products',
          entityId: 'p-0',
          serverId: a!.serverId,
          changeType: 'CREATE',
          version: 1,
          outcome: 'APPLIED',
        },
        {
          requestId: 'p-r1',
          clientId: 'p-1',
          entityType: 'products',
          entityId: 'p-1',
          serverId: b!.serverId,
          changeType: 'CREATE',
          version: 1,
          outcome: 'APPLIED',
        },
      ],
      failed: [],
      conflicts: [],
      idMappings: [
        { entityType: 'products', clientId: 'p-0', serverId: a!.serverId },
        { entityType: 'products', clientId: 'p-1', serverId: b!.serverId },
      ],
    });
    expect(a!.serverId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
  });

  it('an explicit clientId is the id mapped, and is what the answer reports as clientId', async () => {
    const user = uniqueUser('val');
    const result = await pushOk(server(), user, 'd1', [
      { ...create('products', 'outbox-row-7', { name: 'x' }), clientId: 'p-local' },
    ]);
    const entry = successOf(result, 'c:outbox-row-7');
    expect(entry).toMatchObject({
      clientId: 'p-local',
      entityId: 'outbox-row-7',
      outcome: 'APPLIED',
    });
    expect(result.idMappings).toEqual([
      { entityType: 'products', clientId: 'p-local', serverId: entry.serverId },
    ]);
  });

  it("with CATALOG_USER_ID unset, the catalog user is 'catalog': its isPublic is kept, anyone else's becomes false", async () => {
    const other = uniqueUser('pub');
    for (const [user, expected] of [
      ['catalog', true],
      [other, false],
    ] as const) {
      const result = await pushOk(server(), user, 'd1', [
        create('products', `pub-${randomUUID()}`, { name: 'Tea', isPublic: true }),
      ]);
      const [product] = (await entityStates(server().database.db, 'products', user)).filter(
        (p) => p.id === result.successful[0]!.serverId,
      );
      expect(product?.isPublic).toBe(expected);
    }
  });

  describe('a malformed envelope is a whole-request 400 VALIDATION_ERROR that applies nothing', () => {
    const envelopes: { name: string; body: (user: string) => unknown }[] = [
      {
        name: 'syncOperationId not a UUID',
        body: () => ({ ...pushBody('d1', productCreates('m', 1)), syncOperationId: 'op-1' }),
      },
      {
        name: 'no deviceId',
        body: () => ({
          syncOperationId: randomUUID(),
          changes: pushBody('d1', productCreates('m', 1)).changes,
        }),
      },
      {
        name: 'deviceId longer than 128',
        body: () => pushBody('d'.repeat(129), productCreates('m', 1)),
      },
      { name: 'empty changes', body: () => pushBody('d1', []) },
      {
        name: 'an unknown entityType',
        body: () =>
          pushBody('d1', [{ ...create('products', 'x'), entityType: 'widgets' as never }]),
      },
      {
        name: 'a bad changeType',
        body: () => pushBody('d1', [{ ...create('products', 'x'), changeType: 'UPSERT' as never }]),
      },
      {
        name: 'a negative syncVersion',
        body: () =>
          pushBody('d1', [{ ...create('products', 'x', { name: 'x' }), syncVersion: -1 }]),
      },
      {
        name: 'changeData an array',
        body: () => pushBody('d1', [{ ...create('products', 'x'), changeData: [] as never }]),
      },
      {
        name: 'a requestId with a NUL',
        body: () => pushBody('d1', [create('products', 'x', { name: 'x' }, 'r\u0000')]),
      },
      {
        name: 'a requestId with an unpaired surrogate',
        body: () => pushBody('d1', [create('products', 'x', { name: 'x' }, 'r\ud800')]),
      },
      { name: 'a JSON array body', body: () => [] },
    ];
    for (const e of envelopes) {
      it(e.name, async () => {
        const user = uniqueUser('env');
        const answer = await server().request<{ error: { code: string; correlationId: string } }>(
          'POST',
          PUSH,
          { user, body: e.body(user) },
        );
        expect(answer.status).toBe(400);
        ErrorEnvelopeSchema.parse(answer.body);
        expect(answer.body.error.code).toBe('VALIDATION_ERROR');
        expect(answer.body.error.correlationId).toBe(answer.headers.get('x-correlation-id'));
        expect(await countRows(server().database.db, 'sync_operations', user)).toBe(0);
      });
    }
  });

  it('more than 1000 changes is a 400 that names the changes field; exactly 1000 is accepted', async () => {
    const user = uniqueUser('env');
    const tooMany = await server().request<{
      error: { code: string; details: { field: string }[] };
    }>('POST', PUSH, {
      user,
      body: pushBody('d1', productCreates('big', 1001)),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('VALIDATION_ERROR');
    expect(tooMany.body.error.details.map((d) => d.field)).toContain('changes');
    expect(await countRows(server().database.db, 'products', user)).toBe(0);

    const max = await push(server(), user, 'd1', productCreates('big', 1000));
    expect(max.status).toBe(200);
    expect(max.body.successful).toHaveLength(1000);
  });

  it('a body that is not JSON is a 400, another content type a 415', async () => {
    const user = uniqueUser('env');
    const notJson = await server().request<{ error: { code: string } }>('POST', PUSH, {
      user,
      body: '{"syncOperationId":',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('VALIDATION_ERROR');

    const text = await server().request<{ error: { code: string } }>('POST', PUSH, {
      user,
      body: JSON.stringify(pushBody('d1', productCreates('t', 1))),
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const form = await server().request<{ error: { code: string } }>('POST', PUSH, {
      user,
      body: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(await countRows(server().database.db, 'products', user)).toBe(0);
  });

  it('no token, a wrongly signed token or a garbage token is a 401 that applies nothing', async () => {
    const body = pushBody('d1', productCreates('a', 1));
    const none = await server().request<{ error: { code: string } }>('POST', PUSH, { body });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    const garbage = await server().request('POST', PUSH, { body, token: 'not-a-jwt' });
    expect(garbage.status).toBe(401);
    const { createTokenService } = await import('../../src/http/auth-tokens.ts');
    const forged = await createTokenService('another-secret-0123456789-abcdefghijklmnop').issue(
      'intruder',
      { admin: false },
    );
    const wrong = await server().request('POST', PUSH, { body, token: forged });
    expect(wrong.status).toBe(401);
    expect(await countRows(server().database.db, 'products', 'intruder')).toBe(0);
  });
});
