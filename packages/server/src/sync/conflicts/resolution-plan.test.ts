import { describe, expect, it } from 'vitest';
import { ENTITY_CONFLICT_CONFIG } from '@sync-engine/shared';
import type { EntityState } from '../entity-state.ts';
import { changedFields, planResolution, type ResolutionInput } from './resolution-plan.ts';

const purchase: EntityState = {
  id: '00000000-0000-4000-8000-000000000001',
  userId: 'u',
  version: 4,
  createdAt: '2024-05-01T09:00:00.000Z',
  updatedAt: '2024-05-01T10:00:00.000Z',
  deletedAt: null,
  quantityPurchased: 2,
  price: 10,
  purchasedAt: '2024-05-01T08:00:00.000Z',
  isActive: true,
  productId: '00000000-0000-4000-8000-0000000000aa',
};

function input(overrides: Partial<ResolutionInput>): ResolutionInput {
  return {
    entityType: 'purchases',
    strategy: 'LOCAL_WINS',
    mergedData: undefined,
    clientData: { quantityPurchased: 3, isActive: false },
    clientVersion: 2,
    current: purchase,
    config: ENTITY_CONFLICT_CONFIG.purchases,
    ...overrides,
  };
}

describe('planResolution', () => {
  it('REMOTE_WINS changes nothing, whatever mergedData says', () => {
    expect(planResolution(input({ strategy: 'REMOTE_WINS', mergedData: { price: 1 } }))).toEqual({
      ok: true,
      patch: {},
    });
  });

  it("LOCAL_WINS proposes the conflict's client data", () => {
    expect(planResolution(input({ strategy: 'LOCAL_WINS' }))).toEqual({
      ok: true,
      patch: { quantityPurchased: 3, isActive: false },
    });
  });

  it('MERGE without mergedData proposes what the configured merge changes (isActive by last write: the server)', () => {
    expect(planResolution(input({ strategy: 'MERGE' }))).toEqual({
      ok: true,
      patch: { quantityPurchased: 3 },
    });
  });

  it('MERGE and MANUAL with mergedData propose it, server-managed and derived fields dropped', () => {
    for (const strategy of ['MERGE', 'MANUAL'] as const) {
      expect(
        planResolution(
          input({ strategy, mergedData: { price: 12, version: 99, id: 'x', userId: 'other' } }),
        ),
      ).toEqual({
        ok: true,
        patch: { price: 12 },
      });
    }
  });

  it('never changes a field the conflict config keeps on the server (purchases.productId)', () => {
    const other = '00000000-0000-4000-8000-0000000000bb';
    expect(
      planResolution(input({ strategy: 'MANUAL', mergedData: { productId: other, price: 1 } })),
    ).toEqual({
      ok: true,
      patch: { price: 1 },
    });
    expect(planResolution(input({ clientData: { productId: other } }))).toEqual({
      ok: true,
      patch: {},
    });
  });

  it('MANUAL without mergedData is a VALIDATION_ERROR naming mergedData', () => {
    expect(planResolution(input({ strategy: 'MANUAL' }))).toMatchObject({
      ok: false,
      error: {
        code: 'VALIDATION_ERROR',
        details: [{ field: 'mergedData', message: 'required for MANUAL' }],
      },
    });
  });

  it('invalid mergedData is a VALIDATION_ERROR with the fields under mergedData', () => {
    const result = planResolution(
      input({ strategy: 'MERGE', mergedData: { quantityPurchased: -1, colour: 'red' } }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_ERROR');
    expect(result.error.details?.map((d) => d.field).sort()).toEqual([
      'mergedData.colour',
      'mergedData.quantityPurchased',
    ]);
    for (const mergedData of [null, [], 'x', 3]) {
      expect(planResolution(input({ strategy: 'MERGE', mergedData }))).toMatchObject({
        ok: false,
        error: { details: [{ field: 'mergedData' }] },
      });
    }
  });
});

describe('changedFields', () => {
  it('keeps only the fields whose value differs (deep JSON equality)', () => {
    expect(
      changedFields(purchase, {
        price: 10,
        isActive: false,
        purchasedAt: '2024-05-01T08:00:00.000Z',
      }),
    ).toEqual({ isActive: false });
  });
});
