import { expect } from 'vitest';
import { z } from 'zod';
import {
  ConflictListResultSchema,
  ENTITY_CONFLICT_CONFIG,
  ListedConflictSchema,
  ResolveConflictsResultSchema,
  ResolvedConflictSchema,
  FailedResolutionSchema,
  applySyncConfig,
  parseSyncConfig,
  type ConflictListResult,
  type EntityConflictConfigMap,
  type ResolveConflictsResult,
} from '@sync-engine/shared';
import { conflictOf, create, ExactErrorObjectSchema, pushOk, serverIdOf, update } from './push-fixtures.ts';
import type { HttpAnswer, TestServer } from './test-server.ts';

/** The conflict config with a SYNC_CONFIG value applied (throws on an invalid one). */
export function configWith(syncConfig: unknown): EntityConflictConfigMap {
  const parsed = parseSyncConfig(syncConfig);
  if (!parsed.ok) throw new Error(parsed.message);
  return applySyncConfig(ENTITY_CONFLICT_CONFIG, parsed.config);
}

/** goals decided by a person (CONTRACT §1's SYNC_CONFIG example). */
export const MANUAL_GOALS = configWith({ entities: { goals: { defaultStrategy: 'MANUAL' } } });

const ExactResolveResultSchema = ResolveConflictsResultSchema.extend({
  resolved: z.array(ResolvedConflictSchema.strict()),
  failed: z.array(
    FailedResolutionSchema.extend({
      error: ExactErrorObjectSchema,
    }).strict(),
  ),
}).strict();

/** `POST /sync/conflicts/resolve`, checked: exact keys, 200 iff nothing failed, else 207. */
export async function resolveConflicts(
  server: Pick<TestServer, 'request'>,
  user: string,
  resolutions: readonly unknown[],
): Promise<ResolveConflictsResult> {
  const answer = await server.request<ResolveConflictsResult>(
    'POST',
    '/api/v1/sync/conflicts/resolve',
    {
      user,
      body: { resolutions },
    },
  );
  if (answer.status !== 200 && answer.status !== 207) {
    throw new Error(`resolve answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  const body = ExactResolveResultSchema.parse(answer.body);
  expect(answer.status).toBe(body.failed.length === 0 ? 200 : 207);
  return body;
}

const ListedWithExtrasSchema = ListedConflictSchema.extend({
  clientVersion: z.number().int(),
  serverVersion: z.number().int(),
  resolvedData: z.record(z.string(), z.unknown()).nullable(),
}).strict();

/** `GET /sync/conflicts?…`, checked against the shared schema (and the extras we add). */
export async function listConflicts(
  server: Pick<TestServer, 'request'>,
  user: string,
  query = '',
): Promise<HttpAnswer<ConflictListResult>> {
  const answer = await server.request<ConflictListResult>('GET', `/api/v1/sync/conflicts${query}`, {
    user,
  });
  if (answer.status === 200) {
    ConflictListResultSchema.parse(answer.body);
    for (const c of answer.body.conflicts) ListedWithExtrasSchema.parse(c);
  }
  return answer;
}

export interface GoalConflict {
  readonly conflictId: string;
  readonly goalId: string;
  /** The goal when the stale UPDATE arrived (version 2). */
  readonly serverState: Record<string, unknown>;
}

/**
 * A goal created by dev-1 (name A, 10, 1), then updated by dev-2 (name B, currentValue 3,
 * version 2), then a stale UPDATE from dev-1 on version 1 (name C, currentValue 5, status
 * ACHIEVED): one conflict, pending when goals are MANUAL.
 */
export async function makeGoalConflict(
  server: Pick<TestServer, 'request'>,
  user: string,
  clientId = 'g1',
): Promise<GoalConflict> {
  const created = await pushOk(server, user, 'dev-1', [
    create('goals', clientId, { name: 'A', targetValue: 10, currentValue: 1 }),
  ]);
  const goalId = serverIdOf(created, 'goals', clientId);
  await pushOk(server, user, 'dev-2', [update('goals', goalId, 1, { name: 'B', currentValue: 3 })]);
  const stale = update('goals', clientId, 1, { name: 'C', currentValue: 5, status: 'ACHIEVED' });
  const result = await pushOk(server, user, 'dev-1', [stale]);
  const conflict = conflictOf(result, stale.requestId);
  return { conflictId: conflict.conflictId, goalId, serverState: conflict.serverState };
}
