import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect } from 'vitest';
import { z } from 'zod';
import {
  ENTITY_REGISTRY,
  ErrorObjectSchema,
  IdMappingSchema,
  PushConflictEntrySchema,
  PushFailedEntrySchema,
  PushResultSchema,
  PushSuccessEntrySchema,
  type EntityType,
  type PushResult,
} from '@sync-engine/shared';
import { rowToEntityState, type EntityState } from '../../src/db/entity-rows.ts';
import type { DB } from '../../src/db/schema.ts';
import type { DatabaseTestTarget } from './test-database.ts';
import {
  startTestServer,
  type HttpAnswer,
  type TestServer,
  type TestServerOptions,
} from './test-server.ts';

/*
 * Fixtures of the push e2e tests: change builders, a push that checks the answer's exact
 * shape, a server shared by the tests of a describe block, and reads of what was stored.
 */

/** One change as a client sends it (`syncVersion` defaults to 0, `changeData` to {}). */
export interface ChangeBody {
  readonly requestId: string;
  readonly entityType: EntityType;
  readonly entityId: string;
  readonly changeType: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly changeData?: Record<string, unknown>;
  readonly syncVersion?: number;
  readonly clientId?: string;
  readonly updatedAt?: string;
}

/** A CREATE of `clientId`; its requestId is `c:<clientId>` unless given. */
export function create(
  entityType: EntityType,
  clientId: string,
  changeData: Record<string, unknown> = {},
  requestId = `c:${clientId}`,
): ChangeBody {
  return {
    requestId,
    entityType,
    entityId: clientId,
    changeType: 'CREATE',
    changeData,
    syncVersion: 0,
  };
}

/** An UPDATE of `id` (client or server id) made on top of `syncVersion`. */
export function update(
  entityType: EntityType,
  id: string,
  syncVersion: number,
  changeData: Record<string, unknown>,
  requestId = `u:${id}:${randomUUID().slice(0, 8)}`,
): ChangeBody {
  return { requestId, entityType, entityId: id, changeType: 'UPDATE', changeData, syncVersion };
}

/** A DELETE of `id` (client or server id) made on top of `syncVersion`. */
export function remove(
  entityType: EntityType,
  id: string,
  syncVersion: number,
  requestId = `d:${id}:${randomUUID().slice(0, 8)}`,
): ChangeBody {
  return { requestId, entityType, entityId: id, changeType: 'DELETE', syncVersion };
}

/** `count` product CREATEs with client ids `${prefix}-${i}` (requestIds `${prefix}-r${i}`). */
export function productCreates(prefix: string, count: number): ChangeBody[] {
  return Array.from({ length: count }, (_, i) =>
    create('products', `${prefix}-${i}`, { name: `${prefix} ${i}` }, `${prefix}-r${i}`),
  );
}

/** A user id no other test uses, so tests can share one server and database. */
export function uniqueUser(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The push request body. */
export function pushBody(
  deviceId: string,
  changes: readonly ChangeBody[],
  syncOperationId: string = randomUUID(),
) {
  return {
    syncOperationId,
    deviceId,
    changes: changes.map((c) => ({ changeData: {}, syncVersion: 0, ...c })),
  };
}

/** An error object with exactly the contract's keys (`{code, message, details?}`), nothing more. */
export const ExactErrorObjectSchema = ErrorObjectSchema.extend({
  details: z.array(z.object({ field: z.string(), message: z.string() }).strict()).optional(),
}).strict();

/*
 * The contract's answer, exactly: no key more or less on any object (`details` optional).
 * The shared PushResultSchema checks types and values; the strict copies here add the
 * "nothing else" half.
 */
const ExactPushResultSchema = PushResultSchema.extend({
  successful: z.array(PushSuccessEntrySchema.strict()),
  failed: z.array(
    PushFailedEntrySchema.extend({
      error: ExactErrorObjectSchema,
    }).strict(),
  ),
  conflicts: z.array(PushConflictEntrySchema.strict()),
  idMappings: z.array(IdMappingSchema.strict()),
}).strict();

/** Checks a 200/207 answer against the shared PushResultSchema and the contract's exact keys and status rule. */
export function expectPushResult(answer: HttpAnswer<unknown>): PushResult {
  expect([200, 207]).toContain(answer.status);
  PushResultSchema.parse(answer.body);
  const body: PushResult = ExactPushResultSchema.parse(answer.body);
  expect(answer.status).toBe(body.failed.length === 0 && body.conflicts.length === 0 ? 200 : 207);
  return body;
}

export interface PushOptions {
  readonly syncOperationId?: string;
  readonly headers?: Record<string, string>;
}

/** `POST /api/v1/sync/push`; a 200/207 answer is checked with `expectPushResult`. */
export async function push(
  server: Pick<TestServer, 'request'>,
  user: string,
  deviceId: string,
  changes: readonly ChangeBody[],
  options: PushOptions = {},
): Promise<HttpAnswer<PushResult>> {
  const answer = await server.request<PushResult>('POST', '/api/v1/sync/push', {
    user,
    body: pushBody(deviceId, changes, options.syncOperationId),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  if (answer.status === 200 || answer.status === 207) expectPushResult(answer);
  return answer;
}

/** A push that must answer 200 or 207; returns the checked body. */
export async function pushOk(
  server: Pick<TestServer, 'request'>,
  user: string,
  deviceId: string,
  changes: readonly ChangeBody[],
  options: PushOptions = {},
): Promise<PushResult> {
  const answer = await push(server, user, deviceId, changes, options);
  if (answer.status !== 200 && answer.status !== 207) {
    throw new Error(`push answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

/** The entry of `requestId` in `successful`, failing the test if it is not there. */
export function successOf(result: PushResult, requestId: string): PushResult['successful'][number] {
  const entry = result.successful.find((s) => s.requestId === requestId);
  if (!entry) throw new Error(`${requestId} is not in successful: ${JSON.stringify(result)}`);
  return entry;
}

export function failureOf(result: PushResult, requestId: string): PushResult['failed'][number] {
  const entry = result.failed.find((s) => s.requestId === requestId);
  if (!entry) throw new Error(`${requestId} is not in failed: ${JSON.stringify(result)}`);
  return entry;
}

export function conflictOf(result: PushResult, requestId: string): PushResult['conflicts'][number] {
  const entry = result.conflicts.find((s) => s.requestId === requestId);
  if (!entry) throw new Error(`${requestId} is not in conflicts: ${JSON.stringify(result)}`);
  return entry;
}

/** The server id the answer maps `clientId` of `entityType` to. */
export function serverIdOf(result: PushResult, entityType: EntityType, clientId: string): string {
  const entry = result.idMappings.find(
    (m) => m.entityType === entityType && m.clientId === clientId,
  );
  if (!entry)
    throw new Error(
      `no idMappings entry for ${entityType} ${clientId}: ${JSON.stringify(result.idMappings)}`,
    );
  return entry.serverId;
}

/**
 * One server for every test of the enclosing describe block (tests use distinct users).
 * Returns a getter; the server is closed after the block.
 */
export function useSharedServer(
  target: DatabaseTestTarget,
  options: Omit<TestServerOptions, 'target'> = {},
): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer({ target, ...options });
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the shared server is not started');
    return server;
  };
}

// ---- reads of what the server stored -------------------------------------------------

/** The stored state of one entity of `userId` (tombstones too), or undefined. */
export async function entityState(
  db: Kysely<DB>,
  entityType: EntityType,
  userId: string,
  id: string,
): Promise<EntityState | undefined> {
  const { rows } = await sql<Record<string, unknown>>`
    select * from ${sql.table(ENTITY_REGISTRY[entityType].table)} where user_id = ${userId} and id = ${id}::uuid`.execute(
    db,
  );
  return rows[0] === undefined ? undefined : rowToEntityState(entityType, rows[0]);
}

/** Every stored entity of `userId` of one type. */
export async function entityStates(
  db: Kysely<DB>,
  entityType: EntityType,
  userId: string,
): Promise<EntityState[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select * from ${sql.table(ENTITY_REGISTRY[entityType].table)} where user_id = ${userId} order by created_at, id`.execute(
    db,
  );
  return rows.map((r) => rowToEntityState(entityType, r));
}

export interface SyncChangeRow {
  entity_type: string;
  entity_id: string;
  change_type: string;
  version: number;
  origin_device_id: string | null;
  request_id: string | null;
  sync_operation_id: string | null;
}

/** The outbox of changes of `userId`, in commit order. */
export async function syncChanges(db: Kysely<DB>, userId: string): Promise<SyncChangeRow[]> {
  const { rows } = await sql<SyncChangeRow>`
    select entity_type, entity_id::text as entity_id, change_type, version, origin_device_id, request_id, sync_operation_id
    from sync_changes where user_id = ${userId} order by xid, seq`.execute(db);
  return rows;
}

export interface ConflictRow {
  id: string;
  entity_type: string;
  entity_id: string;
  request_id: string;
  device_id: string;
  strategy: string;
  outcome: string;
  status: string;
  resolution: string | null;
  client_version: number;
  server_version: number;
  client_data: Record<string, unknown>;
  server_data: Record<string, unknown>;
  resolved_data: Record<string, unknown> | null;
  resolved_at: Date | null;
}

export async function conflictRows(db: Kysely<DB>, userId: string): Promise<ConflictRow[]> {
  const { rows } = await sql<ConflictRow>`
    select id::text as id, entity_type, entity_id::text as entity_id, request_id, device_id, strategy, outcome, status, resolution,
      client_version, server_version, client_data, server_data, resolved_data, resolved_at
    from sync_conflicts where user_id = ${userId} order by created_at, id`.execute(db);
  return rows;
}

export interface OperationRow {
  status: string;
  device_id: string;
  http_status: number | null;
  result_payload: unknown;
  heartbeat_at: Date;
  completed_at: Date | null;
}

export async function operationRow(
  db: Kysely<DB>,
  userId: string,
  syncOperationId: string,
): Promise<OperationRow | undefined> {
  const { rows } = await sql<OperationRow>`
    select status, device_id, http_status, result_payload, heartbeat_at, completed_at
    from sync_operations where user_id = ${userId} and sync_operation_id = ${syncOperationId}`.execute(
    db,
  );
  return rows[0];
}

export interface LockRow {
  lock_owner: string | null;
  lock_expires_at: Date | null;
  fencing_token: string;
  last_sync_at: Date | null;
}

export async function lockRow(
  db: Kysely<DB>,
  userId: string,
  deviceId: string,
): Promise<LockRow | undefined> {
  const { rows } = await sql<LockRow>`
    select lock_owner, lock_expires_at, fencing_token::text as fencing_token, last_sync_at
    from sync_states where user_id = ${userId} and device_id = ${deviceId}`.execute(db);
  return rows[0];
}

/** Number of rows of `table` of `userId`. */
export async function countRows(db: Kysely<DB>, table: string, userId: string): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from ${sql.table(table)} where user_id = ${userId}`.execute(db);
  return rows[0]?.n ?? 0;
}

// ---- concurrency helpers -------------------------------------------------------------

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * `testHooks.beforeCommit` dispatching by syncOperationId: a test registers what the push
 * with its id does just before each of its batch transactions commits (`batch` counts from 1).
 */
export class BeforeCommitHooks {
  private readonly hooks = new Map<string, (batch: number) => Promise<void>>();
  private readonly calls = new Map<string, number>();

  readonly beforeCommit = async ({
    syncOperationId,
  }: {
    syncOperationId: string;
  }): Promise<void> => {
    const hook = this.hooks.get(syncOperationId);
    if (hook === undefined) return;
    const batch = (this.calls.get(syncOperationId) ?? 0) + 1;
    this.calls.set(syncOperationId, batch);
    await hook(batch);
  };

  on(syncOperationId: string, hook: (batch: number) => Promise<void>): void {
    this.hooks.set(syncOperationId, hook);
  }

  /** How many batch transactions of this push reached their commit. */
  batches(syncOperationId: string): number {
    return this.calls.get(syncOperationId) ?? 0;
  }
}

/**
 * A `request` against a server this test does not own in-process (a child process): the
 * same shape as TestServer's, with tokens signed by `tokens`.
 */
export function remoteClient(
  url: string,
  issue: (userId: string) => Promise<string>,
): Pick<TestServer, 'request'> {
  return {
    async request<T>(
      method: string,
      path: string,
      o: { user?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
    ) {
      const headers: Record<string, string> = { ...o.headers };
      const token = o.token ?? (o.user !== undefined ? await issue(o.user) : undefined);
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      let payload: string | undefined;
      if (o.body !== undefined) {
        payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
      });
      const text = await res.text();
      let body: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text !== '')
        body = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: body as T };
    },
  };
}

/**
 * Pushes `body` until it is answered 200/207, waiting out 409s (a stale lock left by a
 * crash) as Retry-After asks; returns the answer and how many 409s came first.
 */
export async function pushUntilDone(
  client: Pick<TestServer, 'request'>,
  user: string,
  body: unknown,
  timeoutMs = 30_000,
): Promise<{ answer: HttpAnswer<PushResult>; refused: number }> {
  const deadline = Date.now() + timeoutMs;
  let refused = 0;
  for (;;) {
    const answer = await client.request<PushResult>('POST', '/api/v1/sync/push', { user, body });
    if (answer.status !== 409) {
      if (answer.status === 200 || answer.status === 207) expectPushResult(answer);
      return { answer, refused };
    }
    refused++;
    if (Date.now() > deadline) throw new Error(`still 409 after ${timeoutMs} ms`);
    const retryAfter = Number(answer.headers.get('retry-after') ?? '1');
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    await sleep(Math.min(retryAfter * 1000, 250));
  }
}
