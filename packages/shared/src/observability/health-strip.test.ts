import { describe, expect, it } from 'vitest';
import { healthBucketStatus, parseMetricsWindow } from './health-strip.ts';

describe('health strip', () => {
  it.each([
    [{ requests: 0, failures: 0, conflicts: 0 }, 'idle'],
    [{ requests: 10, failures: 0, conflicts: 0 }, 'ok'],
    [{ requests: 10, failures: 0, conflicts: 2 }, 'ok'],
    [{ requests: 10, failures: 0, conflicts: 3 }, 'degraded'],
    [{ requests: 10, failures: 1, conflicts: 0 }, 'degraded'],
    [{ requests: 10, failures: 5, conflicts: 0 }, 'failing'],
    [{ requests: 1, failures: 1, conflicts: 0 }, 'failing'],
  ] as const)('%j is %s', (bucket, status) => {
    expect(healthBucketStatus(bucket)).toBe(status);
  });

  it('parses metrics windows', () => {
    expect(parseMetricsWindow('24h')).toBe(86_400_000);
    expect(parseMetricsWindow('90m')).toBe(5_400_000);
    expect(parseMetricsWindow('7d')).toBe(604_800_000);
    expect(parseMetricsWindow('0h')).toBeUndefined();
    expect(parseMetricsWindow('forever')).toBeUndefined();
  });
});
