import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computePageDigest,
  computeSyncChangesEtag,
  type SyncChangesEtagInput,
} from './sync-etag.ts';

const base: SyncChangesEtagInput = {
  userId: 'u1',
  cursorIn: null,
  cursorOut: 'c2',
  entityTypes: ['sessions'],
  limit: 100,
  changeIds: ['1', '2'],
};

describe('computeSyncChangesEtag', () => {
  it('is a quoted strong ETag, stable for equal inputs', () => {
    const etag = computeSyncChangesEtag(base);
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(computeSyncChangesEtag({ ...base, changeIds: ['1', '2'] })).toBe(etag);
  });

  it.each<[string, Partial<SyncChangesEtagInput>]>([
    ['user', { userId: 'u2' }],
    ['cursor in', { cursorIn: 'c1' }],
    ['cursor out', { cursorOut: 'c3' }],
    ['filter', { entityTypes: undefined }],
    ['limit', { limit: 50 }],
    ['device', { deviceId: 'd1' }],
    ['scope', { scope: 'catalog' }],
    ['hasMore', { hasMore: true }],
    ['page', { changeIds: ['1', '3'] }],
    ['page order', { changeIds: ['2', '1'] }],
  ])('changes with the %s', (_what, over) => {
    expect(computeSyncChangesEtag({ ...base, ...over })).not.toBe(computeSyncChangesEtag(base));
  });

  it('tells apart inputs that naive concatenation would confuse', () => {
    const a = computeSyncChangesEtag({ ...base, changeIds: ['1,2'] });
    const b = computeSyncChangesEtag({ ...base, changeIds: ['1', '2'] });
    expect(a).not.toBe(b);
  });

  it('accepts a page digest instead of change ids', () => {
    const d1 = computePageDigest([{ changeId: '1', data: { a: 1, b: 2 } }]);
    const d2 = computePageDigest([{ data: { b: 2, a: 1 }, changeId: '1' }]);
    const d3 = computePageDigest([{ changeId: '1', data: { a: 1, b: 3 } }]);
    // Key order inside the page does not matter; values do.
    expect(d1).toBe(d2);
    expect(d1).not.toBe(d3);
    const { changeIds: _ids, ...rest } = base;
    expect(computeSyncChangesEtag({ ...rest, pageDigest: d1 })).not.toBe(
      computeSyncChangesEtag({ ...rest, pageDigest: d3 }),
    );
  });

  it('distinct pages get distinct ETags', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(computeSyncChangesEtag({ ...base, changeIds: a })).not.toBe(
          computeSyncChangesEtag({ ...base, changeIds: b }),
        );
      }),
    );
  });
});
