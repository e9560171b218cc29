import { expect, it } from 'vitest';
import {
  MANUAL_GOALS,
  listConflicts,
  makeGoalConflict,
  resolveConflicts,
} from '../support/conflict-fixtures.ts';
import { uniqueUser, useSharedServer } from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';

describeEachDatabase('GET /sync/conflicts', (target) => {
  const server = useSharedServer(target, { conflictConfig: MANUAL_GOALS });

  it('lists the caller’s conflicts newest first with the contract’s fields, filtered by status', async () => {
    const user = uniqueUser('list');
    const first = await makeGoalConflict(server(), user, 'g1');
    const second = await makeGoalConflict(server(), user, 'g2');
    await resolveConflicts(server(), user, [
      { conflictId: first.conflictId, strategy: 'LOCAL_WINS' },
    ]);

    const all = await listConflicts(server(), user);
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.conflicts.map((c) => c.conflictId)).toEqual([
      second.conflictId,
      first.conflictId,
    ]);
    expect(all.body.conflicts[0]).toEqual({
      conflictId: second.conflictId,
      entityType: 'goals',
      entityId: second.goalId,
      strategy: 'MANUAL',
      outcome: 'MANUAL_REQUIRED',
      status: 'PENDING',
      resolution: null,
      clientData: { name: 'C', currentValue: 5, status: 'ACHIEVED' },
      serverData: second.serverState,
      createdAt: expect.stringMatching(/Z$/) as unknown,
      resolvedAt: null,
      clientVersion: 1,
      serverVersion: 2,
      resolvedData: null,
    });
    expect(all.body.conflicts[1]).toMatchObject({
      status: 'RESOLVED',
      resolution: 'LOCAL_WINS',
      resolvedAt: expect.stringMatching(/Z$/) as unknown,
    });

    const pending = await listConflicts(server(), user, '?status=PENDING');
    expect(pending.body.conflicts.map((c) => c.conflictId)).toEqual([second.conflictId]);
    const resolved = await listConflicts(server(), user, '?status=RESOLVED');
    expect(resolved.body.conflicts.map((c) => c.conflictId)).toEqual([first.conflictId]);
  });

  it('shows nothing of another user’s conflicts', async () => {
    const owner = uniqueUser('owner');
    await makeGoalConflict(server(), owner);
    const other = await listConflicts(server(), uniqueUser('other'));
    expect(other.body).toEqual({ conflicts: [], nextCursor: null });
  });

  it('pages with an opaque keyset cursor: every conflict once, in order, whatever the page size', async () => {
    const user = uniqueUser('pages');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.unshift((await makeGoalConflict(server(), user, `g${i}`)).conflictId);
    for (const limit of [1, 2, 3, 5]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const page = await listConflicts(server(), user, query);
        expect(page.status).toBe(200);
        expect(page.body.conflicts.length).toBeLessThanOrEqual(limit);
        seen.push(...page.body.conflicts.map((c) => c.conflictId));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(seen).toEqual(ids);
      expect(pages).toBe(Math.ceil(5 / limit));
    }
  });

  it('refuses a cursor that was altered, issued to another user or for another filter with 400 INVALID_CURSOR', async () => {
    const user = uniqueUser('cursor');
    for (let i = 0; i < 2; i++) await makeGoalConflict(server(), user, `g${i}`);
    const first = await listConflicts(server(), user, '?limit=1');
    const cursor = first.body.nextCursor ?? '';
    expect(cursor).not.toBe('');
    // The second-to-last character: every bit of it is signature (the last one's low bits are padding).
    const tampered = `${cursor.slice(0, -2)}${cursor.at(-2) === 'A' ? 'B' : 'A'}${cursor.slice(-1)}`;
    expect(tampered).not.toBe(cursor);
    for (const [who, query] of [
      [user, `?limit=1&cursor=${encodeURIComponent(tampered)}`],
      [user, '?limit=1&cursor=not-a-cursor'],
      [uniqueUser('thief'), `?limit=1&cursor=${encodeURIComponent(cursor)}`],
      [user, `?limit=1&status=PENDING&cursor=${encodeURIComponent(cursor)}`],
    ] as const) {
      const answer = await server().request<{ error: { code: string } }>(
        'GET',
        `/api/v1/sync/conflicts${query}`,
        { user: who },
      );
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code).toBe('INVALID_CURSOR');
    }
  });

  it('refuses a bad status or limit with 400 VALIDATION_ERROR, and needs a token', async () => {
    const user = uniqueUser('bad-query');
    for (const query of ['?status=OPEN', '?limit=0', '?limit=101', '?limit=x']) {
      const answer = await server().request<{ error: { code: string } }>(
        'GET',
        `/api/v1/sync/conflicts${query}`,
        { user },
      );
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await server().request('GET', '/api/v1/sync/conflicts')).status).toBe(401);
  });
});
