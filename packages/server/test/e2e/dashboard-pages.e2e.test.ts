import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { DASHBOARD_SESSION_COOKIE } from '@sync-engine/dashboard';
import { createTokenService } from '../../src/http/auth-tokens.ts';
import { SECRETS, leakedSecrets, secretSettings } from '../support/capture-fixtures.ts';
import {
  pageOk,
  pushCaptureId,
  requestPage,
  sessionCookieFor,
} from '../support/dashboard-fixtures.ts';
import {
  create,
  pushOk,
  serverIdOf,
  uniqueUser,
  update,
  useSharedServer,
} from '../support/push-fixtures.ts';
import { describeEachDatabase } from '../support/test-database.ts';

const PAGES = [
  '',
  '/requests',
  `/requests/${randomUUID()}`,
  '/conflicts',
  '/failures',
  '/requests?kind=push&page=2',
];

const HOSTILE_NAME = '<img src=x onerror="window.__xss=1">';
const HOSTILE_DESCRIPTION = '<script>window.__xss=2</script>';

/** Markup with insignificant whitespace dropped, so assertions do not depend on source layout. */
function squash(markup: string): string {
  return markup.replace(/>\s+</g, '><').replace(/\s+/g, ' ');
}

/** The cookie a Set-Cookie header sets, as `name=value`, and its attributes. */
function parseSetCookie(header: string | null): { pair: string; attributes: string[] } {
  const [pair = '', ...attributes] = (header ?? '').split(';').map((p) => p.trim());
  return { pair, attributes };
}

describeEachDatabase('dashboard pages', (target) => {
  const server = useSharedServer(target);
  const prefix = () => server().config.dashboardPrefix;

  it('without a session every page redirects to the login page, which leads back', async () => {
    for (const path of PAGES) {
      const answer = await requestPage(server(), path);
      expect([302, 303], path).toContain(answer.status);
      const location = new URL(answer.headers.get('location') ?? '', server().url);
      expect(location.pathname).toBe(`${prefix()}/login`);
      expect(location.searchParams.get('next')).toBe(`${prefix()}${path}`);
    }
    // An invalid or expired cookie is a missing session, and is cleared.
    const expired = await createTokenService(
      'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    ).issue('ops', { admin: true, ttlSeconds: -10 });
    for (const cookie of [
      `${DASHBOARD_SESSION_COOKIE}=garbage`,
      `${DASHBOARD_SESSION_COOKIE}=${expired}`,
    ]) {
      const answer = await requestPage(server(), '/requests', { cookie });
      expect(answer.status).toBe(303);
      expect(parseSetCookie(answer.headers.get('set-cookie')).attributes).toContain('Max-Age=0');
    }
    // The JSON API answers 401 instead.
    expect((await server().request('GET', `${prefix()}/api/requests`)).status).toBe(401);
  });

  it('a non-admin gets 403 on pages and on the API, by cookie or by token', async () => {
    const cookie = await sessionCookieFor(server(), 'plain-user', false);
    for (const path of PAGES.slice(0, 2)) {
      const byCookie = await requestPage(server(), path, { cookie });
      expect(byCookie.status, path).toBe(403);
      expect(byCookie.headers.get('content-type')).toContain('text/html');
      expect(byCookie.text).toContain('FORBIDDEN');
      const byToken = await requestPage(server(), path, {
        headers: { authorization: `Bearer ${await server().token('plain-user')}` },
      });
      expect(byToken.status, path).toBe(403);
    }
    expect(
      (await server().request('GET', `${prefix()}/api/requests`, { headers: { cookie } })).status,
    ).toBe(403);
  });

  it('login: a bad token is 401, a user token 403; an admin token sets a strict HttpOnly session cookie', async () => {
    const form = await requestPage(
      server(),
      '/login?next=' + encodeURIComponent(`${prefix()}/failures?code=X`),
    );
    expect(form.status).toBe(200);
    expect(form.text).toContain('name="token"');
    expect(form.text).toContain(`value="${prefix()}/failures?code=X"`);

    const bad = await requestPage(server(), '/login', { form: { token: 'not-a-token' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const user = await requestPage(server(), '/login', {
      form: { token: await server().token('someone') },
    });
    expect(user.status).toBe(403);
    expect(user.headers.get('set-cookie')).toBeNull();

    const adminToken = await server().token('ops', { admin: true });
    const ok = await requestPage(server(), '/login', {
      form: { token: `Bearer ${adminToken}`, next: `${prefix()}/failures?code=X` },
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`${prefix()}/failures?code=X`);
    const cookie = parseSetCookie(ok.headers.get('set-cookie'));
    expect(cookie.pair.startsWith(`${DASHBOARD_SESSION_COOKIE}=`)).toBe(true);
    expect(cookie.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict', `Path=${prefix()}`]),
    );
    expect(cookie.attributes).not.toContain('Secure'); // plain http here
    // The session is a token of its own, not the pasted one, and it opens pages and the API.
    expect(cookie.pair).not.toContain(adminToken);
    expect((await requestPage(server(), '/failures', { cookie: cookie.pair })).status).toBe(200);
    expect(
      (
        await server().request('GET', `${prefix()}/api/requests`, {
          headers: { cookie: cookie.pair },
        })
      ).status,
    ).toBe(200);

    // Logging out clears it.
    const out = await requestPage(server(), '/logout', { method: 'POST', cookie: cookie.pair });
    expect(out.status).toBe(303);
    expect(parseSetCookie(out.headers.get('set-cookie')).attributes).toContain('Max-Age=0');
  });

  it('login never redirects off the dashboard', async () => {
    const token = await server().token('ops', { admin: true });
    for (const next of [
      'https://evil.example/',
      '//evil.example/x',
      '/elsewhere',
      `${prefix()}evil`,
      `/\\evil.example`,
    ]) {
      const answer = await requestPage(server(), '/login', { form: { token, next } });
      expect(answer.status, next).toBe(303);
      expect(answer.headers.get('location'), next).toBe(prefix());
    }
  });

  it('pages show captured data as text, carry a nonce CSP and run no script', async () => {
    const user = uniqueUser('pages');
    const device = `phone-${randomUUID().slice(0, 8)}`;
    const created = await pushOk(server(), user, device, [
      create('products', 'evil', { name: HOSTILE_NAME, description: HOSTILE_DESCRIPTION }),
      create('goals', 'g1', { name: 'Run', targetValue: 3, currentValue: 0 }),
      create('devices', 'd1', { deviceName: 'Pixel', settings: secretSettings() }),
      create('products', 'bad', { name: 'X', password: SECRETS.password }),
    ]);
    const captureId = await pushCaptureId(server(), user);
    const goalId = serverIdOf(created, 'goals', 'g1');
    await pushOk(server(), user, 'tablet', [update('goals', goalId, 1, { name: 'Walk' })]);
    await pushOk(server(), user, device, [update('goals', goalId, 1, { name: HOSTILE_NAME })]);
    await server().app.captureFlush();
    const cookie = await sessionCookieFor(server());

    const pages = {
      overview: await requestPage(server(), '', { cookie }),
      requests: await requestPage(server(), `/requests?clientId=${device}`, { cookie }),
      detail: await requestPage(server(), `/requests/${captureId}`, { cookie }),
      conflicts: await requestPage(server(), `/conflicts?clientId=${device}`, { cookie }),
      failures: await requestPage(server(), `/failures?clientId=${device}`, { cookie }),
    };
    for (const [name, answer] of Object.entries(pages)) {
      expect(answer.status, name).toBe(200);
      expect(answer.headers.get('content-type'), name).toContain('text/html');
      const csp = answer.headers.get('content-security-policy') ?? '';
      const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce, name).toBeDefined();
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(answer.text).toContain(`<style nonce="${nonce}">`);
      expect(answer.text, name).not.toMatch(/<script|<img|\sstyle="/i);
      expect(leakedSecrets(answer.text), name).toEqual([]);
    }

    expect(
      squash(pages.overview.text).match(/<rect class="(ok|degraded|failing|idle)" data-status=/g),
    ).toHaveLength(288);
    expect(pages.overview.text).toContain('products');
    expect(pages.requests.text).toContain(`data-capture-id="${captureId}"`);
    // Filtered by client: the tablet's push (the second newest) is not listed.
    expect(pages.requests.text).not.toContain(
      `data-capture-id="${await pushCaptureId(server(), user, 1)}"`,
    );

    // JSON text of the payload: its quotes are backslash-escaped, then HTML-escaped.
    const escapedName = '&lt;img src=x onerror=\\&quot;window.__xss=1\\&quot;&gt;';
    const escapedScript = '&lt;script&gt;window.__xss=2&lt;/script&gt;';
    expect(pages.detail.text).toContain(escapedName);
    expect(pages.detail.text).toContain(escapedScript);
    expect(pages.detail.text).toContain('[REDACTED]');
    expect(pages.detail.text).toContain('data-block="payload"');
    // The capture holds redacted values: the replay tools say so and are disabled.
    expect(pages.detail.text).toContain('data-block="replay-unavailable"');
    expect(pages.detail.text).toContain('data-block="replay-disabled"');

    // In JSON the quotes are backslash-escaped too.
    expect(pages.conflicts.text).toContain(escapedName);
    expect(pages.conflicts.text).toContain('VERSION_CONFLICT');
    expect(squash(pages.conflicts.text)).toMatch(
      /<td class="mono">phone-[0-9a-f]{8}<\/td><td class="num">1<\/td>/,
    );
    expect(pages.failures.text).toContain('VALIDATION_ERROR');
    expect(pages.failures.text).toContain('password');
  });

  it('a request page lists its mutations 20 a page, with field diffs', async () => {
    const user = uniqueUser('pages-many');
    await pushOk(
      server(),
      user,
      'phone',
      Array.from({ length: 45 }, (_, i) => create('products', `p${i}`, { name: `Product ${i}` })),
    );
    const captureId = await pushCaptureId(server(), user);
    const cookie = await sessionCookieFor(server());
    const indexes = (text: string) =>
      [...text.matchAll(/<article class="mutation" data-index="(\d+)"/g)].map((m) => Number(m[1]));

    const first = squash(await pageOk(server(), `/requests/${captureId}`, cookie));
    expect(indexes(first)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(first).toContain('Page 1 of 3 · 45 mutations');
    expect(first).toContain(`href="${prefix()}/requests/${captureId}?page=2#mutations"`);
    expect(first).toContain(
      '<td class="mono">name</td><td class="mono">null</td><td class="mono">Product 0</td>',
    );
    const last = squash(await pageOk(server(), `/requests/${captureId}?page=3`, cookie));
    expect(indexes(last)).toEqual([40, 41, 42, 43, 44]);
    expect(last).toContain('Page 3 of 3');
  });

  it('an unknown capture is a 404 page; a bad filter a 400 page', async () => {
    const cookie = await sessionCookieFor(server());
    const missing = await requestPage(server(), `/requests/${randomUUID()}`, { cookie });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('NOT_FOUND');
    for (const path of ['/requests?kind=delete', '/requests?page=0', '/?window=forever']) {
      const bad = await requestPage(server(), path, { cookie });
      expect(bad.status, path).toBe(400);
      expect(bad.text).toContain('VALIDATION_ERROR');
    }
  });
});
