/**
 * Debian's Chromium for the browser tests (playwright-core can't download a browser here): where it is,
 * whether it is there — required in CI (CI=true), where `.ci/run` installs it — and one way to launch it
 * headless.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

if (!haveChromium && process.env.CI) throw new Error(`Chromium is required in CI (looked for ${CHROMIUM})`);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
