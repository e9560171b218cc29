import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  CURSOR_SCHEMA_VERSION,
  ErrorEnvelopeSchema,
  START_POSITION,
  createCursorCodec,
  type PullResult,
} from '@sync-engine/shared';
import { describeEachDatabase } from '../support/test-database.ts';
import {
  TEST_JWT_SECRET,
  startTestServer,
  type HttpAnswer,
  type TestServer,
} from '../support/test-server.ts';
import {
  productCreates,
  pullAll,
  pullPage,
  pullPath,
  pushChanges,
  waitForFeedHorizon,
} from '../support/sync-client.ts';

/** Signs an arbitrary cursor payload the way the server's codec does (to reach checks behind the MAC). */
function signRawCursor(payload: Record<string, unknown>, subject: string): string {
  const macKey = createHmac('sha256', TEST_JWT_SECRET).update('sync-engine/cursor/mac').digest();
  const userKey = createHmac('sha256', TEST_JWT_SECRET).update('sync-engine/cursor/user').digest();
  const u = createHmac('sha256', userKey)
    .update(JSON.stringify(subject))
    .digest()
    .subarray(0, 8)
    .toString('hex');
  const part = Buffer.from(JSON.stringify({ v: payload['v'], u, ...payload })).toString(
    'base64url',
  );
  return `${part}.${createHmac('sha256', macKey).update(part).digest().subarray(0, 16).toString('base64url')}`;
}

function expectError(answer: HttpAnswer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const envelope = ErrorEnvelopeSchema.parse(answer.body);
  expect(envelope.error.code).toBe(code);
  expect(envelope.error.correlationId).toBe(answer.headers.get('x-correlation-id'));
}

describeEachDatabase('pull paging and cursors', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ target });
  });
  afterAll(async () => {
    await server.close();
  });

  it('paging 250 changes by 100 gives pages of 100, 100 and 50 in feed order, without gaps or repeats', async () => {
    const user = 'paging-250';
    const push = await pushChanges(server, user, 'writer', productCreates('p', 250));
    expect(push.status).toBe(200);
    await waitForFeedHorizon(server.database.db, user);

    const all = await pullAll(server, user, { deviceId: 'reader', limit: 100 });
    expect(all.pages.map((p) => [p.recordsReturned, p.changes.length, p.hasMore])).toEqual([
      [100, 100, true],
      [100, 100, true],
      [50, 50, false],
    ]);
    const { rows } = await sql<{ seq: string }>`
      select c.seq::text as seq from sync_changes c where c.user_id = ${user} order by c.xid, c.seq`.execute(
      server.database.db,
    );
    expect(rows).toHaveLength(250);
    // Exactly the feed, in its order: nothing skipped, nothing twice.
    expect(all.changes.map((c) => c.changeId)).toEqual(rows.map((r) => r.seq));
    expect(new Set(all.changes.map((c) => c.entityId))).toEqual(
      new Set(push.body.successful.map((s) => s.serverId)),
    );

    const after = await pullPage(server, user, {
      deviceId: 'reader',
      limit: 100,
      cursor: all.cursor,
    });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ changes: [], hasMore: false, recordsReturned: 0 });
  });

  it('a cursor altered anywhere, garbage, or of a newer schema version is refused with 400 INVALID_CURSOR', async () => {
    const user = 'tamper';
    await pushChanges(server, user, 'writer', productCreates('t', 3));
    await waitForFeedHorizon(server.database.db, user);
    const page = await pullPage(server, user, { limit: 2 });
    expect(page.status).toBe(200);
    const cursor = page.body.cursor;
    expect((await pullPage(server, user, { cursor })).status).toBe(200);

    const [payload, mac] = cursor.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      p: { xid: string; seq: string };
    };
    const movedAhead = Buffer.from(
      JSON.stringify({ ...decoded, p: { ...decoded.p, seq: '999999' } }),
    ).toString('base64url');
    const flip = (s: string, i: number) =>
      s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const tampered = [
      `${movedAhead}.${mac}`, // a forged position keeping the old MAC
      `${flip(payload, 3)}.${mac}`,
      `${payload}.${flip(mac, 5)}`,
      `${payload}.${mac}x`,
      `${payload}`,
      'garbage',
      'a.b.c',
      '%%%',
      'x'.repeat(5000),
      signRawCursor({ v: CURSOR_SCHEMA_VERSION + 1, p: START_POSITION }, user),
    ];
    for (const bad of tampered) {
      expectError(await pullPage(server, user, { cursor: bad }), 400, 'INVALID_CURSOR');
    }
    // The hand-signed layout is accepted at the current version: the refusals above are the checks, not the signing.
    expect(
      (
        await pullPage(server, user, {
          cursor: signRawCursor({ v: CURSOR_SCHEMA_VERSION, p: START_POSITION }, user),
        })
      ).status,
    ).toBe(200);
  });

  it("another user's cursor and a catalog cursor are refused for a user pull with 400 INVALID_CURSOR", async () => {
    const alice = await pullPage(server, 'cursor-alice', {});
    expect(alice.status).toBe(200);
    const bob = await pullPage(server, 'cursor-bob', { cursor: alice.body.cursor });
    expectError(bob, 400, 'INVALID_CURSOR');
    expect(JSON.stringify(bob.body)).not.toContain('cursor-alice');

    // A validly signed cursor of alice's catalog stream (what a catalog pull hands out).
    const catalogCursor = createCursorCodec(TEST_JWT_SECRET).encode('cursor-alice\u0000catalog', {
      position: START_POSITION,
    });
    expectError(
      await pullPage(server, 'cursor-alice', { cursor: catalogCursor }),
      400,
      'INVALID_CURSOR',
    );
    // The same codec's user-stream cursor is accepted: only the stream binding differs.
    const userCursor = createCursorCodec(TEST_JWT_SECRET).encode('cursor-alice', {
      position: START_POSITION,
    });
    expect((await pullPage(server, 'cursor-alice', { cursor: userCursor })).status).toBe(200);
  });

  it('limit outside 1–1000 is refused with 400 VALIDATION_ERROR; 1 and 1000 are accepted', async () => {
    for (const limit of ['0', '1001', '-1', 'abc', '1.5', '1e3', '99999999999']) {
      expectError(await pullPage(server, 'limits', { limit }), 400, 'VALIDATION_ERROR');
    }
    for (const limit of [1, 1000]) {
      expect((await pullPage(server, 'limits', { limit })).status).toBe(200);
    }
  });

  it('unknown entityTypes are refused with 400 VALIDATION_ERROR', async () => {
    for (const entityTypes of ['users', 'products,nope', 'Products', 'products;sessions']) {
      expectError(await pullPage(server, 'types', { entityTypes }), 400, 'VALIDATION_ERROR');
    }
    expect(
      (await pullPage(server, 'types', { entityTypes: 'products, sessions,products' })).status,
    ).toBe(200);
  });

  it('If-None-Match with the ETag of the same page answers 304 without a body; a changed page answers 200 with a new ETag', async () => {
    const user = 'etag';
    await pushChanges(server, user, 'writer', productCreates('e', 2));
    await waitForFeedHorizon(server.database.db, user);
    const first = await pullPage(server, user, { deviceId: 'reader' });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);

    const same = await server.request('GET', pullPath({ deviceId: 'reader' }), {
      user,
      headers: { 'if-none-match': etag! },
    });
    expect(same.status).toBe(304);
    expect(same.body).toBe('');
    expect(same.headers.get('etag')).toBe(etag);
    // If-None-Match is a list compared weakly (RFC 9110 §13.1.2).
    for (const header of [`"0000", ${etag!}`, `W/${etag!}`]) {
      expect(
        (await pullPage(server, user, { deviceId: 'reader' }, { 'if-none-match': header })).status,
        header,
      ).toBe(304);
    }

    // Another page (other limit, other user) never matches that ETag.
    expect(
      (await pullPage(server, user, { deviceId: 'reader', limit: 1 }, { 'if-none-match': etag! }))
        .status,
    ).toBe(200);
    expect(
      (await pullPage(server, `${user}-other`, { deviceId: 'reader' }, { 'if-none-match': etag! }))
        .status,
    ).toBe(200);

    await pushChanges(server, user, 'writer', productCreates('e2', 1));
    await waitForFeedHorizon(server.database.db, user);
    const changed: HttpAnswer<PullResult> = await pullPage(
      server,
      user,
      { deviceId: 'reader' },
      { 'if-none-match': etag! },
    );
    expect(changed.status).toBe(200);
    expect(changed.body.changes).toHaveLength(3);
    const newEtag = changed.headers.get('etag');
    expect(newEtag).not.toBe(etag);
    expect(
      (await pullPage(server, user, { deviceId: 'reader' }, { 'if-none-match': newEtag! })).status,
    ).toBe(304);

    // An incremental page from the cursor: same page again → 304 as well.
    const next = await pullPage(server, user, { deviceId: 'reader', cursor: changed.body.cursor });
    expect(next.body.changes).toEqual([]);
    const nextEtag = next.headers.get('etag')!;
    expect(
      (
        await pullPage(
          server,
          user,
          { deviceId: 'reader', cursor: changed.body.cursor },
          { 'if-none-match': nextEtag },
        )
      ).status,
    ).toBe(304);
  });
});
