import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ENTITY_TYPES, type EntityType, type FieldKind } from '@sync-engine/shared';
import {
  entityColumns,
  entityPatchToRow,
  entityStateToRow,
  rowToEntityState,
  type EntityState,
} from '../../src/db/entity-rows.ts';
import { describeEachDatabase, type TestDatabase } from '../support/test-database.ts';

/** A value of each kind chosen to catch lossy mappings (quotes, commas, unicode, precision). */
function sampleValue(kind: FieldKind, field: string): unknown {
  switch (kind) {
    case 'text':
      return `${field}: "quoted", comma, ünïcødé ✓ 😀 \\ backslash`;
    case 'integer':
      return 2147483647;
    case 'number':
      return 0.1 + 0.2;
    case 'boolean':
      return true;
    case 'timestamp':
      return '2024-05-06T07:08:09.123Z';
    case 'text[]':
      return ['a', 'b, c', '{"not":"json"}', '', 'a'];
    case 'json':
      return { nested: { deep: [1, 'x', null, true, { k: 1.5 }] }, '': 'empty key', emoji: '😀' };
    case 'ref':
      return randomUUID();
  }
}

function fullState(type: EntityType): EntityState {
  const state: EntityState = {
    id: randomUUID(),
    userId: 'user-1',
    version: 3,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-02T03:04:05.678Z',
    deletedAt: null,
  };
  for (const { field, spec } of entityColumns(type)) state[field] = sampleValue(spec.kind, field);
  return state;
}

async function insertAndRead(db: TestDatabase['db'], type: EntityType, state: EntityState): Promise<EntityState> {
  await db.insertInto(type).values(entityStateToRow(type, state)).execute();
  const row = await db.selectFrom(type).selectAll().where('id', '=', state.id).executeTakeFirstOrThrow();
  return rowToEntityState(type, row);
}

describeEachDatabase('entity rows', ({ createTestDatabase }) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.close());

  test.each(ENTITY_TYPES)('a %s state with a value of every field round-trips unchanged', async (type) => {
    const state = fullState(type);
    expect(await insertAndRead(t.db, type, state)).toEqual(state);
  });

  test.each(ENTITY_TYPES)('a %s state with every nullable field null round-trips unchanged', async (type) => {
    const state = fullState(type);
    for (const { field, spec } of entityColumns(type)) {
      if (spec.nullable && spec.defaultValue === null) state[field] = null;
    }
    state.deletedAt = '2024-03-01T00:00:00.000Z';
    expect(await insertAndRead(t.db, type, state)).toEqual(state);
  });

  test('fields left out of a state are written with their registry defaults', async () => {
    const id = randomUUID();
    const read = await insertAndRead(t.db, 'sessions', {
      id,
      userId: 'user-1',
      version: 1,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      deletedAt: null,
    });
    expect(read).toMatchObject({
      status: 'ACTIVE',
      notes: null,
      productId: null,
      eventCount: 0,
      sessionStartTimestamp: null,
      totalDurationMs: 0,
    });
  });

  test('timestamps with an offset come back as the same instant in UTC', async () => {
    const state = { ...fullState('consumptions'), timestamp: '2024-05-06T09:08:09.5+02:00' };
    expect((await insertAndRead(t.db, 'consumptions', state))['timestamp']).toBe('2024-05-06T07:08:09.500Z');
  });

  test('a patch updates only the fields it names', async () => {
    const state = fullState('journal_entries');
    await insertAndRead(t.db, 'journal_entries', state);
    const patch = { tags: ['new'], reactions: { mood: { calm: 2 } }, version: 4, updatedAt: '2024-06-01T00:00:00.000Z' };
    await t.db.updateTable('journal_entries').set(entityPatchToRow('journal_entries', patch)).where('id', '=', state.id).execute();
    const row = await t.db.selectFrom('journal_entries').selectAll().where('id', '=', state.id).executeTakeFirstOrThrow();
    expect(rowToEntityState('journal_entries', row)).toEqual({ ...state, ...patch });
  });
});

describe('entity row mapping', () => {
  test('rejects a key that is neither server-managed nor a registry field', () => {
    expect(() => entityStateToRow('goals', { ...fullState('goals'), clientId: 'x' })).toThrow(/unknown field "clientId"/);
    expect(() => entityPatchToRow('goals', { targetvalue: 1 })).toThrow(/unknown field "targetvalue"/);
  });

  test('writes jsonb fields as JSON text and maps names to snake_case columns', () => {
    const row = entityStateToRow('products', { ...fullState('products'), effects: ['calm'], isPublic: false });
    expect(row).toMatchObject({ effects: '["calm"]', is_public: false, user_id: 'user-1' });
  });

  test('a partial row is a bug, not missing data', () => {
    expect(() => rowToEntityState('goals', { id: randomUUID() })).toThrow(/the row has no column "/);
  });
});
