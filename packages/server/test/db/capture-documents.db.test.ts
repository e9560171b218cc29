import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRedactor } from '@sync-engine/shared';
import type { CaptureMutationRecord, CaptureRows } from '../../src/capture/capture-rows.ts';
import { writeCaptures } from '../../src/capture/capture-store.ts';
import { changedFieldNames, diffOfStored } from '../../src/capture/stored-diff.ts';
import { describeEachDatabase, type TestDatabase } from '../support/test-database.ts';

const redactor = createRedactor([]);
const FIELDS = ['id', 'name', 'notes', 'version', 'settings', 'tags', 'deletedAt'] as const;
/** JSON values jsonb holds as they are (no NUL, integers and short decimals). */
const value = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0.5, -2.25),
  fc.string({ maxLength: 6 }).filter((s) => !s.includes('\u0000')),
  fc.dictionary(fc.constantFrom('a', 'b'), fc.oneof(fc.integer(), fc.constant(null))),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const state = fc.dictionary(fc.constantFrom(...FIELDS), value);
const outcome = fc.constantFrom('applied', 'skipped', 'rejected', 'conflict') as fc.Arbitrary<
  CaptureMutationRecord['outcome']
>;

let seq = 0;
function captureOf(
  mutations: {
    payload: unknown;
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    outcome: CaptureMutationRecord['outcome'];
  }[],
): CaptureRows {
  const id = `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
  const startedAt = new Date(Date.UTC(2026, 0, 1)).toISOString();
  return {
    request: {
      id,
      kind: 'push',
      user_id: 'u',
      client_id: 'd',
      correlation_id: 'c',
      sync_operation_id: null,
      replay_of: null,
      method: 'POST',
      route: '/api/v1/sync/push',
      started_at: startedAt,
      duration_ms: 1,
      http_status: 200,
      outcome: 'success',
      error_code: null,
      mutation_count: mutations.length,
      conflict_count: 0,
      failure_count: 0,
      snapshot_count: 0,
      request: '{}',
      response: '{}',
    },
    mutations: mutations.map((m, idx) => ({
      capture_id: id,
      idx,
      started_at: startedAt,
      user_id: 'u',
      client_id: 'd',
      request_id: `r${idx}`,
      entity_type: 'goals',
      entity_id: typeof m.after?.['id'] === 'string' ? m.after['id'] : null,
      client_entity_id: `c${idx}`,
      change_type: m.before === null ? 'CREATE' : 'UPDATE',
      outcome: m.outcome,
      reason: null,
      reason_code: m.outcome === 'rejected' ? 'VALIDATION_ERROR' : null,
      reason_detail: null,
      conflict_id: null,
      payload: m.payload,
      before: m.before,
      after: m.after,
      diff: changedFieldNames(m.before, m.after),
      duration_ms: 0.125,
    })),
    models: new Map(),
    bucketStartMs: Date.UTC(2026, 0, 1),
  };
}

describeEachDatabase('stored capture mutations', ({ createTestDatabase }) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.close());

  test('read back through captured_mutations exactly as captured: payload, before, after and diff', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            payload: state,
            before: fc.option(state, { nil: null }),
            after: fc.option(state, { nil: null }),
            outcome,
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (mutations) => {
          const capture = captureOf(mutations);
          await writeCaptures(t.db, [capture]);
          const rows = await t.db
            .selectFrom('captured_mutations')
            .selectAll()
            .where('capture_id', '=', capture.request.id)
            .orderBy('idx')
            .execute();
          expect(rows.map((r) => r.outcome)).toEqual(mutations.map((m) => m.outcome));
          rows.forEach((row, i) => {
            const sent = capture.mutations[i]!;
            expect(row.payload).toEqual(sent.payload);
            expect(row.before).toEqual(sent.before);
            expect(row.after).toEqual(sent.after);
            expect(row.duration_ms).toBe(0.125);
            const shown = diffOfStored(row.diff, row.before, row.after, redactor);
            expect(new Set(shown.map((d) => d.field))).toEqual(new Set(sent.diff));
            expect(shown).toHaveLength(sent.diff.length);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
