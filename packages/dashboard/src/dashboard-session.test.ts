import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_SESSION_COOKIE,
  clearedSessionCookie,
  sessionCookie,
} from './dashboard-session.ts';

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict and scoped to the dashboard; Secure only over https', () => {
    const plain = sessionCookie(
      '/tether/dashboard',
      { value: 'a.b-c_d', maxAgeSeconds: 3600 },
      false,
    );
    expect(plain).toBe(
      `${DASHBOARD_SESSION_COOKIE}=a.b-c_d; Path=/tether/dashboard; Max-Age=3600; HttpOnly; SameSite=Strict`,
    );
    const secure = sessionCookie('/ops', { value: 'v', maxAgeSeconds: 59.9 }, true);
    expect(secure.split('; ')).toEqual([
      `${DASHBOARD_SESSION_COOKIE}=v`,
      'Path=/ops',
      'Max-Age=59',
      'HttpOnly',
      'SameSite=Strict',
      'Secure',
    ]);
  });

  it('cannot be split by a value holding cookie syntax', () => {
    const cookie = sessionCookie(
      '/d',
      { value: 'x; Path=/; Domain=evil', maxAgeSeconds: 1 },
      false,
    );
    expect(
      cookie.startsWith(
        `${DASHBOARD_SESSION_COOKIE}=x%3B%20Path%3D%2F%3B%20Domain%3Devil; Path=/d;`,
      ),
    ).toBe(true);
  });

  it('is cleared by an empty value that expires at once', () => {
    expect(clearedSessionCookie('/d', true)).toBe(
      `${DASHBOARD_SESSION_COOKIE}=; Path=/d; Max-Age=0; HttpOnly; SameSite=Strict; Secure`,
    );
  });
});
