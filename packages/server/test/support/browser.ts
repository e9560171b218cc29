import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH']?.trim() || '/usr/bin/chromium';

/** A quiet, offline, throwaway browser: no sandbox (containers), no GPU, no background traffic. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser extends AsyncDisposable {
  readonly context: BrowserContext;
  /** A new tab; console errors of every tab are collected in `consoleErrors`. */
  newPage(): Promise<Page>;
  readonly consoleErrors: string[];
  close(): Promise<void>;
}

/**
 * Chromium with a fresh profile, closed and deleted when disposed. Browser tests do not skip
 * without a browser: they fail, saying how to get one.
 */
export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Browser tests need Chromium at ${CHROMIUM_PATH}. Install it with "apt-get install -y chromium" ` +
        '(.ci/run does) or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'sync-engine-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const consoleErrors: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= context.close().finally(() => rm(userDataDir, { recursive: true, force: true }));
    return closing;
  };
  return {
    context,
    consoleErrors,
    newPage: () => context.newPage(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
