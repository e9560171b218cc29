import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import {
  PullResultSchema,
  PushResultSchema,
  type EntityType,
  type PulledChange,
  type PullResult,
  type PushResult,
} from '@sync-engine/shared';
import type { DB } from '../../src/db/schema.ts';
import type { HttpAnswer, TestServer } from './test-server.ts';

/** One change of a push body, as a client sends it. */
export interface ChangeInput {
  readonly requestId: string;
  readonly entityType: EntityType;
  readonly entityId: string;
  readonly changeType: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly changeData?: Record<string, unknown>;
  readonly syncVersion: number;
  readonly clientId?: string;
}

/** `POST /sync/push`; a 200/207 answer is checked against the shared PushResultSchema. */
export async function pushChanges(
  server: TestServer,
  user: string,
  deviceId: string,
  changes: readonly ChangeInput[],
  syncOperationId: string = randomUUID(),
): Promise<HttpAnswer<PushResult>> {
  const answer = await server.request<PushResult>('POST', '/api/v1/sync/push', {
    user,
    body: { syncOperationId, deviceId, changes: changes.map((c) => ({ changeData: {}, ...c })) },
  });
  if (answer.status === 200 || answer.status === 207) PushResultSchema.parse(answer.body);
  return answer;
}

/** `count` product CREATEs with distinct client ids `${prefix}-${i}`. */
export function productCreates(prefix: string, count: number): ChangeInput[] {
  return Array.from({ length: count }, (_, i) => ({
    requestId: `${prefix}-r${i}`,
    entityType: 'products' as const,
    entityId: `${prefix}-${i}`,
    changeType: 'CREATE' as const,
    changeData: { name: `${prefix} ${i}` },
    syncVersion: 0,
  }));
}

export interface PullQuery {
  readonly cursor?: string | undefined;
  readonly deviceId?: string | undefined;
  readonly entityTypes?: readonly EntityType[] | string | undefined;
  readonly limit?: number | string | undefined;
  readonly scope?: string | undefined;
}

/** The query string of `GET /sync/changes`. */
export function pullPath(q: PullQuery = {}): string {
  const params = new URLSearchParams();
  if (q.cursor !== undefined) params.set('cursor', q.cursor);
  if (q.deviceId !== undefined) params.set('deviceId', q.deviceId);
  if (q.entityTypes !== undefined)
    params.set(
      'entityTypes',
      typeof q.entityTypes === 'string' ? q.entityTypes : q.entityTypes.join(','),
    );
  if (q.limit !== undefined) params.set('limit', String(q.limit));
  if (q.scope !== undefined) params.set('scope', q.scope);
  const text = params.toString();
  return `/api/v1/sync/changes${text === '' ? '' : `?${text}`}`;
}

/** One page; a 200 answer is checked against the shared PullResultSchema. */
export async function pullPage(
  server: TestServer,
  user: string,
  q: PullQuery = {},
  headers: Record<string, string> = {},
): Promise<HttpAnswer<PullResult>> {
  const answer = await server.request<PullResult>('GET', pullPath(q), { user, headers });
  if (answer.status === 200) PullResultSchema.parse(answer.body);
  return answer;
}

export interface PulledAll {
  readonly changes: PulledChange[];
  readonly pages: PullResult[];
  readonly cursor: string;
}

/** Pages from `q.cursor` until `hasMore` is false (every page must be a 200). */
export async function pullAll(
  server: TestServer,
  user: string,
  q: PullQuery = {},
  maxPages = 1000,
): Promise<PulledAll> {
  const pages: PullResult[] = [];
  let cursor = q.cursor;
  for (let i = 0; i < maxPages; i++) {
    const answer = await pullPage(server, user, { ...q, cursor });
    if (answer.status !== 200)
      throw new Error(`pull answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    pages.push(answer.body);
    cursor = answer.body.cursor;
    if (!answer.body.hasMore) return { changes: pages.flatMap((p) => p.changes), pages, cursor };
  }
  throw new Error(`pull did not finish within ${maxPages} pages`);
}

/**
 * Waits until every change of `userId` committed so far is older than every transaction
 * still running on the server. A pull hands out only such changes, by design; on a shared
 * PostgreSQL server an unrelated long transaction (another test run) can hold that horizon
 * back for a moment, so a test that expects "everything committed is pulled" waits here.
 */
export async function waitForFeedHorizon(
  db: Kysely<DB>,
  userId: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql<{ caught_up: boolean }>`
      select coalesce(max(xid) < pg_snapshot_xmin(pg_current_snapshot()), true) as caught_up
      from sync_changes where user_id = ${userId}`.execute(db);
    if (rows[0]?.caught_up === true) return;
    if (Date.now() > deadline)
      throw new Error(`the feed horizon of ${userId} did not move within ${timeoutMs} ms`);
    await sleep(20);
  }
}
