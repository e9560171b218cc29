import { describe, expect, it } from 'vitest';
import type { PullResult, PushRequest, PushResult } from '@sync-engine/shared';
import { SyncHttpError, SyncNetworkError, SyncProtocolError } from './errors.ts';
import { SyncClient, type SyncClientOptions } from './sync-client.ts';
import { createMemoryStore } from './store/memory-store.ts';

/*
 * The sync loop's HTTP behaviour against scripted answers (no server here: the e2e package
 * runs the client against the real one). Each test states which answers the "network"
 * gives, in order, and checks what the client sent and kept.
 */

interface Sent {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

type Reply = Response | Error | ((sent: Sent) => Response);

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const emptyPull: PullResult = {
  changes: [],
  cursor: 'cur-1',
  hasMore: false,
  recordsReturned: 0,
  entityCursors: {},
};

function pushAnswerFor(sent: Sent): PushResult {
  const body = sent.body as PushRequest;
  return {
    syncOperationId: body.syncOperationId,
    successful: body.changes.map((c, i) => ({
      requestId: c.requestId,
      clientId: c.entityId,
      entityType: c.entityType,
      entityId: c.entityId,
      serverId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      changeType: c.changeType,
      version: 1,
      outcome: 'APPLIED' as const,
    })),
    failed: [],
    conflicts: [],
    idMappings: body.changes.map((c, i) => ({
      entityType: c.entityType,
      clientId: c.entityId,
      serverId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    })),
  };
}

const okPush = (sent: Sent) => json(200, pushAnswerFor(sent));

function harness(replies: Reply[], options: Partial<SyncClientOptions> = {}) {
  const sent: Sent[] = [];
  const sleeps: number[] = [];
  const tokenCalls: boolean[] = [];
  let local = 0;
  const client = new SyncClient({
    baseUrl: 'http://sync.test/',
    deviceId: 'phone-1',
    store: createMemoryStore(),
    getToken: ({ forceRefresh }) => {
      tokenCalls.push(forceRefresh);
      return forceRefresh ? 'fresh' : 'stale';
    },
    fetch: async (input, init) => {
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const request: Sent = {
        method: init.method ?? 'GET',
        url: new URL(input),
        headers,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      sent.push(request);
      const reply = replies.shift();
      if (reply === undefined)
        throw new Error(`unexpected request ${request.method} ${request.url.pathname}`);
      if (reply instanceof Error) throw reply;
      return typeof reply === 'function' ? reply(request) : reply;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ids: { localId: () => `local-${++local}` },
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    ...options,
  });
  return { client, sent, sleeps, tokenCalls };
}

const pushes = (sent: Sent[]) => sent.filter((s) => s.url.pathname === '/api/v1/sync/push');

describe('SyncClient push', () => {
  it('resends an unanswered push unchanged, same syncOperationId, and applies the answer once', async () => {
    const { client, sent, sleeps } = harness([
      new TypeError('fetch failed'),
      okPush,
      json(200, emptyPull),
    ]);
    await client.create('goals', { name: 'Run' });
    const report = await client.sync();
    const [first, second] = pushes(sent);
    expect(second?.body).toEqual(first?.body);
    expect(sleeps).toEqual([50]);
    expect(report.push).toMatchObject({ batches: 1, applied: 1 });
    expect(await client.pendingChanges()).toEqual([]);
    expect((await client.get('goals', 'local-1'))?.id).toBe('00000000-0000-4000-8000-000000000000');
  });

  it('keeps an unanswered push frozen across sync() calls and resends it before anything new', async () => {
    const store = createMemoryStore();
    const { client, sent } = harness(
      [new TypeError('down'), new TypeError('down'), new TypeError('down')],
      { store },
    );
    await client.create('goals', { name: 'Run' });
    await expect(client.sync()).rejects.toBeInstanceOf(SyncNetworkError);
    await client.create('goals', { name: 'Swim' });
    const firstBody = pushes(sent)[0]?.body as PushRequest;
    expect(firstBody.changes.map((c) => c.changeData['name'])).toEqual(['Run']);

    // The app restarts: same store, the network is back. The frozen batch goes first, unchanged.
    const restarted = harness([okPush, okPush, json(200, emptyPull)], { store });
    await restarted.client.sync();
    const [resent, next] = pushes(restarted.sent).map((s) => s.body as PushRequest);
    expect(resent).toEqual(firstBody);
    expect(next?.syncOperationId).not.toBe(firstBody.syncOperationId);
    expect(next?.changes.map((c) => c.changeData['name'])).toEqual(['Swim']);
  });

  it('waits at least Retry-After on 429 and 409, then retries the same request', async () => {
    const { client, sent, sleeps } = harness([
      json(
        429,
        { error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' } },
        { 'retry-after': '2' },
      ),
      json(409, { error: { code: 'SYNC_IN_PROGRESS', message: 'busy' } }, { 'retry-after': '1' }),
      okPush,
      json(200, emptyPull),
    ]);
    await client.create('goals', { name: 'Run' });
    await client.sync();
    expect(sleeps[0]).toBeGreaterThanOrEqual(2000);
    expect(sleeps[1]).toBeGreaterThanOrEqual(1000);
    const ids = pushes(sent).map((s) => (s.body as PushRequest).syncOperationId);
    expect(new Set(ids).size).toBe(1);
  });

  it('gives up after the policy allows and reports the server error', async () => {
    const busy = () => json(503, { error: { code: 'UNAVAILABLE', message: 'db down' } });
    const { client } = harness([busy(), busy(), busy()]);
    await client.create('goals', { name: 'Run' });
    const error = await client.sync().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncHttpError);
    expect(error).toMatchObject({ status: 503, code: 'UNAVAILABLE', retryable: true });
  });

  it('asks the token provider for a fresh token once after a 401', async () => {
    const { client, sent, tokenCalls } = harness([
      json(401, { error: { code: 'UNAUTHENTICATED', message: 'Token has expired' } }),
      okPush,
      json(200, emptyPull),
    ]);
    await client.create('goals', { name: 'Run' });
    await client.sync();
    expect(tokenCalls.slice(0, 2)).toEqual([false, true]);
    expect(sent.map((s) => s.headers['authorization'])).toEqual([
      'Bearer stale',
      'Bearer fresh',
      'Bearer stale',
    ]);
  });

  it('splits a batch the server finds too large', async () => {
    const { client, sent } = harness([
      json(413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'too big' } }),
      okPush,
      okPush,
      json(200, emptyPull),
    ]);
    for (const name of ['a', 'b', 'c', 'd']) await client.create('goals', { name });
    await client.sync();
    expect(pushes(sent).map((s) => (s.body as PushRequest).changes.length)).toEqual([4, 2, 2]);
    expect(await client.pendingChanges()).toEqual([]);
  });

  it('bisects a batch refused with 400 and dead-letters only the change refused alone', async () => {
    const refuseBad = (sent: Sent) => {
      const body = sent.body as PushRequest;
      return body.changes.some((c) => c.changeData['name'] === 'bad')
        ? json(400, { error: { code: 'VALIDATION_ERROR', message: 'bad envelope' } })
        : okPush(sent);
    };
    const { client, sent } = harness([
      ...Array<typeof refuseBad>(6).fill(refuseBad),
      json(200, emptyPull),
    ]);
    for (const name of ['a', 'bad', 'c', 'd']) await client.create('goals', { name });
    const report = await client.sync();
    expect(
      pushes(sent).map((s) => (s.body as PushRequest).changes.map((c) => c.changeData['name'])),
    ).toEqual([['a', 'bad', 'c', 'd'], ['a', 'bad'], ['a'], ['bad'], ['c'], ['d']]);
    expect(report.push.deadLettered).toBe(1);
    expect(
      (await client.deadLetters()).map((d) => [d.entry.changeData['name'], d.error.code]),
    ).toEqual([['bad', 'VALIDATION_ERROR']]);
  });

  it('refuses an answer the contract does not allow, keeping the batch for later', async () => {
    const { client } = harness([json(200, { successful: 'yes' })]);
    await client.create('goals', { name: 'Run' });
    await expect(client.sync()).rejects.toBeInstanceOf(SyncProtocolError);
    expect(await client.pendingChanges()).toMatchObject([
      { batchId: expect.any(String) as string },
    ]);
  });

  it('lets concurrent sync() calls share one run', async () => {
    const { client, sent } = harness([json(200, emptyPull)]);
    const [a, b] = await Promise.all([client.sync(), client.sync()]);
    expect(a).toBe(b);
    expect(sent).toHaveLength(1);
  });
});

describe('SyncClient pull', () => {
  const G = '33333333-3333-4333-8333-333333333333';
  const change = (version: number, name: string) => ({
    changeId: `c${version}`,
    entityType: 'goals' as const,
    entityId: G,
    changeType: 'UPDATE' as const,
    version,
    data: {
      id: G,
      version,
      name,
      targetValue: 1,
      currentValue: 0,
      status: 'ACTIVE',
      deletedAt: null,
    },
    createdAt: '2024-05-01T00:00:00.000Z',
    originDeviceId: null,
  });

  it('pages with the cursor until hasMore is false and keeps the cursor', async () => {
    const { client, sent } = harness([
      json(200, {
        ...emptyPull,
        changes: [change(1, 'a')],
        cursor: 'p1',
        hasMore: true,
        recordsReturned: 1,
      }),
      json(200, {
        ...emptyPull,
        changes: [change(2, 'b')],
        cursor: 'p2',
        hasMore: false,
        recordsReturned: 1,
      }),
      json(200, { ...emptyPull, cursor: 'p2' }),
    ]);
    const report = await client.sync();
    expect(report.pull).toEqual({ pages: 2, changes: 2, restartedFromScratch: false });
    expect(
      sent.map((s) => [s.url.searchParams.get('cursor'), s.url.searchParams.get('deviceId')]),
    ).toEqual([
      [null, 'phone-1'],
      ['p1', 'phone-1'],
    ]);
    expect((await client.get('goals', G))?.data['name']).toBe('b');
    await client.sync();
    expect(sent[2]?.url.searchParams.get('cursor')).toBe('p2');
  });

  it('starts over from scratch when the cursor expired', async () => {
    const { client, sent } = harness([
      json(200, { ...emptyPull, cursor: 'old' }),
      json(410, { error: { code: 'CURSOR_EXPIRED', message: 'compacted' } }),
      json(200, { ...emptyPull, changes: [change(3, 'c')], cursor: 'new' }),
    ]);
    await client.sync();
    const report = await client.sync();
    expect(report.pull.restartedFromScratch).toBe(true);
    expect(sent.map((s) => s.url.searchParams.get('cursor'))).toEqual([null, 'old', null]);
    expect((await client.get('goals', G))?.version).toBe(3);
  });
});
