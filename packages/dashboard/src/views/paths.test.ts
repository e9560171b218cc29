import { describe, expect, it } from 'vitest';
import { dashboardPaths, safeNext } from './paths.ts';

const PREFIX = '/tether/dashboard';

describe('dashboard paths', () => {
  it('percent-encodes ids and query values, so a hostile id cannot leave its segment', () => {
    const paths = dashboardPaths(PREFIX);
    expect(paths.request('../../x?y#z')).toBe(`${PREFIX}/requests/..%2F..%2Fx%3Fy%23z`);
    expect(
      paths.requests({ clientId: '"><script>&a=b', userId: undefined, page: 2, kind: '' }),
    ).toBe(`${PREFIX}/requests?clientId=%22%3E%3Cscript%3E%26a%3Db&page=2`);
    expect(paths.login(`${PREFIX}/failures?code=X`)).toBe(
      `${PREFIX}/login?next=%2Ftether%2Fdashboard%2Ffailures%3Fcode%3DX`,
    );
  });

  it('lets login lead back only to a dashboard page', () => {
    for (const inside of [
      PREFIX,
      `${PREFIX}/requests`,
      `${PREFIX}?window=1h`,
      `${PREFIX}/requests/abc?page=2`,
    ]) {
      expect(safeNext(PREFIX, inside)).toBe(inside);
    }
    for (const outside of [
      'https://evil.example/',
      '//evil.example',
      `${PREFIX}evil`,
      `${PREFIX}//evil.example`,
      '/tether',
      `/\\evil.example`,
      `${PREFIX}/\\evil`,
      `${PREFIX}/a b`,
      'javascript:alert(1)',
      undefined,
      42,
      `${PREFIX}/${'x'.repeat(3000)}`,
    ]) {
      expect(safeNext(PREFIX, outside), String(outside).slice(0, 40)).toBe(PREFIX);
    }
  });
});
