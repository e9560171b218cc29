import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimestamp } from './timestamp.ts';

const schema = isoTimestamp();

describe('isoTimestamp', () => {
  it.each([
    '2024-05-01T10:00:00Z',
    '2024-05-01T10:00:00.123Z',
    '2024-05-01T12:00:00+02:00',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
  ])('accepts %s', (value) => {
    expect(schema.safeParse(value).success).toBe(true);
  });

  it.each([
    ['year 0000, which PostgreSQL cannot store', '0000-06-01T00:00:00Z'],
    ['an offset that moves year 0001 back into year 0000', '0001-01-01T00:30:00+01:00'],
    ['an impossible date', '2024-02-30T00:00:00Z'],
    ['no zone', '2024-05-01T10:00:00'],
    ['a date without a time', '2024-05-01'],
  ])('refuses %s', (_what, value) => {
    expect(schema.safeParse(value).success).toBe(false);
  });

  it('accepts every instant a JavaScript client can produce between years 1 and 9999', () => {
    const min = new Date('0001-01-01T00:00:00Z').getTime();
    const max = new Date('9999-12-31T23:59:59.999Z').getTime();
    fc.assert(
      fc.property(fc.integer({ min, max }), (ms) => {
        expect(schema.safeParse(new Date(ms).toISOString()).success).toBe(true);
      }),
    );
  });
});
