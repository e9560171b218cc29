import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, leakedSecrets } from '../support/capture-fixtures.ts';
import { launchChromium, type TestBrowser } from '../support/browser.ts';
import { pushCaptureId } from '../support/dashboard-fixtures.ts';
import { create, pushOk, uniqueUser } from '../support/push-fixtures.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

/*
 * The dashboard in a real browser (Debian's Chromium through playwright-core): log in, read
 * hostile captured payloads without any of them turning into markup, page through mutations,
 * preview and run a live replay.
 */

const HOSTILE_NAME = '<img src=x onerror="window.__xss=1">';
const HOSTILE_SCRIPT = '<script>window.__xss=2</script>';

/** What a hostile payload could have set if it ever ran. */
const xssMarker = (page: Page) => page.evaluate(() => (globalThis as { __xss?: unknown }).__xss);

describe('dashboard in a browser', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  const user = uniqueUser('browser');
  const device = `phone-${randomUUID().slice(0, 8)}`;
  let hostileId: string;
  let replayableId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { DASHBOARD_REPLAY_LIVE: 'true' } });
    // 45 mutations (3 pages): hostile text in the first, a password in the second.
    await pushOk(server, user, device, [
      create('products', 'evil', { name: HOSTILE_NAME, description: HOSTILE_SCRIPT }),
      create('products', 'bad', { name: 'Leaky', password: SECRETS.password }),
      ...Array.from({ length: 43 }, (_, i) =>
        create('products', `p${i}`, { name: `Product ${i}` }),
      ),
    ]);
    hostileId = await pushCaptureId(server, user);
    // A purchase whose product does not exist yet fails; once it does, a replay applies it.
    await pushOk(server, user, device, [
      create('purchases', 'pu1', { quantityPurchased: 2, productId: 'later' }),
    ]);
    replayableId = await pushCaptureId(server, user);
    await pushOk(server, user, device, [create('products', 'later', { name: 'Arrived later' })]);
    await server.app.captureFlush();
    browser = await launchChromium();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const dashboard = (path = '') => `${server.url}${server.config.dashboardPrefix}${path}`;

  /** Every secret of the fixtures absent from the page, and nothing injected ran. */
  async function expectNothingLeakedOrRun(): Promise<void> {
    expect(leakedSecrets(await page.content())).toEqual([]);
    expect(await xssMarker(page)).toBeUndefined();
  }

  it('logs in through the login page and shows the overview with the 24 h health strip', async () => {
    await page.goto(dashboard());
    expect(new URL(page.url()).pathname).toBe(`${server.config.dashboardPrefix}/login`);
    await page.locator('textarea[name=token]').fill(await server.token('ops', { admin: true }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(dashboard());
    expect(await page.locator('h1').innerText()).toBe('Sync overview');
    expect(await page.locator('svg.health-strip rect').count()).toBe(288);
    expect(await page.locator('svg.health-strip rect.idle').count()).toBeLessThan(288);
    expect(await page.locator('[data-block=top-clients]').innerText()).toContain(device);
    // The stylesheet applied: its nonce matched the CSP (a refused style would be an error too).
    const fill = await page.evaluate(
      "getComputedStyle(document.querySelector('svg.health-strip rect:not(.idle)')).fill",
    );
    expect(fill).toMatch(/^rgb/);
    expect(fill).not.toBe('rgb(0, 0, 0)');
    await expectNothingLeakedOrRun();
  });

  it('shows hostile payloads as literal text: nothing injected, nothing run, the password redacted', async () => {
    await page.goto(dashboard(`/requests/${hostileId}`));
    const first = page.locator('article.mutation[data-index="0"]');
    const payload = first.locator('[data-block=payload]');
    expect(await payload.isVisible()).toBe(true);
    const payloadText = (await payload.textContent()) ?? '';
    // The payload block is the JSON as text; the diff shows the value itself.
    expect(payloadText).toContain(JSON.stringify(HOSTILE_NAME));
    expect(payloadText).toContain(HOSTILE_SCRIPT);
    expect(await first.getByText(HOSTILE_NAME, { exact: true }).isVisible()).toBe(true);
    expect(await first.getByText(HOSTILE_SCRIPT, { exact: true }).isVisible()).toBe(true);
    expect(
      await page.locator('[data-block=payload] img, [data-block=payload] script').count(),
    ).toBe(0);
    expect(await page.locator('main img, main script, script').count()).toBe(0);

    const leaky = page.locator('article.mutation[data-index="1"] [data-block=payload]');
    expect(await leaky.textContent()).toContain('"password": "[REDACTED]"');
    // Redacted values cannot be replayed faithfully, and the page says so.
    expect(await page.locator('[data-block=replay-unavailable]').innerText()).toContain(
      'changes[1].changeData.password',
    );
    await expectNothingLeakedOrRun();
  });

  it('pages through the mutations of a large request', async () => {
    await page.goto(dashboard(`/requests/${hostileId}`));
    const indexes = async () => {
      const cards = page.locator('article.mutation');
      const out: number[] = [];
      for (let i = 0; i < (await cards.count()); i++)
        out.push(Number(await cards.nth(i).getAttribute('data-index')));
      return out;
    };
    expect(await indexes()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await page.locator('a[rel=next]').first().click();
    await page.waitForURL(/page=2/);
    expect((await indexes())[0]).toBe(20);
    await page.locator('a[rel=next]').first().click();
    await page.waitForURL(/page=3/);
    expect(await indexes()).toEqual([40, 41, 42, 43, 44]);
    expect(await page.locator('[data-block=pager]').first().innerText()).toContain('Page 3 of 3');
    await page.locator('a[rel=prev]').first().click();
    await page.waitForURL(/page=2/);
    await expectNothingLeakedOrRun();
  });

  it('previews a replay: the failed purchase would now apply', async () => {
    await page.goto(dashboard(`/requests/${replayableId}`));
    await page.getByRole('link', { name: 'Preview replay' }).click();
    await page.waitForURL(/\/replay\/preview$/);
    const row = page.locator('[data-block=preview] tr[data-index="0"]');
    expect(await row.innerText()).toContain('applied');
    expect(await page.locator('main').innerText()).toContain('Nothing was written');
  });

  it('replays live after confirmation and links the replay and the original', async () => {
    await page.goto(dashboard(`/requests/${replayableId}`));
    const replayNow = page.getByRole('button', { name: 'Replay now' });
    expect(await replayNow.isEnabled()).toBe(true);
    await page.locator('input[name=confirm]').check();
    await replayNow.click();
    await page.waitForURL(
      (url) =>
        /\/requests\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(replayableId),
    );
    const replayId = new URL(page.url()).pathname.split('/').pop()!;
    expect(await page.locator('h1').innerText()).toContain('Replayed push request');
    expect(await page.locator('article.mutation[data-index="0"] .badge').textContent()).toBe(
      'applied',
    );

    await page.locator('[data-block=replay-of] a').click();
    await page.waitForURL(dashboard(`/requests/${replayableId}`));
    expect(await page.locator(`#replays tr[data-capture-id="${replayId}"]`).count()).toBe(1);
    await expectNothingLeakedOrRun();
    // No CSP refusal, no script error on any page visited.
    expect(browser.consoleErrors).toEqual([]);
  });
});
