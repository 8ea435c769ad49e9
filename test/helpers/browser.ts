import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './process.ts';

/**
 * Headless Chromium from the system (Debian's `chromium` package), driven by playwright-core. The flags keep
 * it from calling home: without the background-networking ones Chromium floods a closed network.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/** The Chromium binary: $CHROMIUM_PATH, else the first of the usual names on the PATH. Throws one line if none. */
export function findChromium(): string {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : CANDIDATES.flatMap((name) => [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin'].map((dir) => join(dir, name)));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error('no Chromium found: install the Debian package chromium (apt-get install chromium) or set CHROMIUM_PATH');
}

/** A page in a fresh Chromium profile (its own --user-data-dir), closed when the test ends. */
export async function useBrowserPage(t: TestContext, viewport = { width: 1440, height: 900 }): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const executablePath = findChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  // Removed once Chromium has exited: it writes to its profile until then.
  const removeProfile = () => rmSync(userDataDir, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args: CHROMIUM_FLAGS, viewport, timeout: 60_000 });
  } catch (error) {
    removeProfile();
    throw error;
  }
  t.after(async () => {
    await context.close();
    removeProfile();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Page errors and console errors (a CSP refusal shows as one) are collected for the test to assert on.
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return { page, context, errors };
}

/**
 * Where a test's screenshots go: docs/images/ (committed, shown in the README) when UPDATE_SCREENSHOTS=1,
 * else test/.output/screenshots/ (ignored by git), so an ordinary test run leaves the work tree clean.
 */
export function screenshotPath(name: string): string {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/images') : join(ROOT, 'test/.output/screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
