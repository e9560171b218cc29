import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonEquals } from '../conflicts/json-equality.ts';
import { diffFields } from './field-diff.ts';

describe('diffFields — examples', () => {
  it('an UPDATE lists the changed fields with both values', () => {
    expect(
      diffFields(
        { id: 'g1', name: 'Run', currentValue: 3, tags: ['a'], version: 1 },
        { id: 'g1', name: 'Run', currentValue: 5, tags: ['a', 'b'], version: 2 },
      ),
    ).toEqual([
      { field: 'currentValue', before: 3, after: 5 },
      { field: 'tags', before: ['a'], after: ['a', 'b'] },
      { field: 'version', before: 1, after: 2 },
    ]);
  });

  it('a CREATE lists every non-null field of the new state, before null', () => {
    expect(diffFields(null, { id: 'p1', name: 'X', description: null })).toEqual([
      { field: 'id', before: null, after: 'p1' },
      { field: 'name', before: null, after: 'X' },
    ]);
  });

  it('nested objects compare deeply and regardless of key order', () => {
    expect(diffFields({ s: { a: 1, b: 2 } }, { s: { b: 2, a: 1 } })).toEqual([]);
    expect(diffFields({ s: { a: 1 } }, { s: { a: 2 } })).toEqual([{ field: 's', before: { a: 1 }, after: { a: 2 } }]);
  });

  it('an absent field counts as null', () => {
    expect(diffFields({ a: null }, {})).toEqual([]);
    expect(diffFields({}, { a: 1 })).toEqual([{ field: 'a', before: null, after: 1 }]);
  });
});

describe('diffFields — properties', () => {
  const state = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'settings', 'tags'), fc.jsonValue(), {
    maxKeys: 7,
  });

  it('lists exactly the changed top-level fields, each once', () => {
    fc.assert(
      fc.property(state, state, (before, after) => {
        const diff = diffFields(before, after);
        const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
        const changed = [...fields].filter((f) => !jsonEquals(before[f] ?? null, after[f] ?? null));
        expect(diff.map((d) => d.field).sort()).toEqual(changed.sort());
        for (const d of diff) {
          expect(d.before).toEqual(before[d.field] ?? null);
          expect(d.after).toEqual(after[d.field] ?? null);
        }
      }),
    );
  });

  it('a state compared with itself has no diff; swapping sides swaps before and after', () => {
    fc.assert(
      fc.property(state, state, (before, after) => {
        expect(diffFields(before, before)).toEqual([]);
        const forward = diffFields(before, after);
        const backward = diffFields(after, before);
        expect(backward.map((d) => d.field).sort()).toEqual(forward.map((d) => d.field).sort());
        for (const d of backward) {
          const f = forward.find((x) => x.field === d.field)!;
          expect(d).toEqual({ field: d.field, before: f.after, after: f.before });
        }
      }),
    );
  });
});
