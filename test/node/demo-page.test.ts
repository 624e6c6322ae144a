/**
 * The demo page in a real browser (Debian's Chromium via playwright-core) against a real `npm run dev`
 * (wrangler dev on the embedded database): two browser contexts, signed in as different demo users,
 * see each other join the same room and see each other's messages.
 *
 * Without Chromium installed this test is skipped locally, and fails in CI (CI=true), where `.ci/run`
 * installs it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const root = fileURLToPath(new URL('../..', import.meta.url));

if (!haveChromium && process.env.CI) throw new Error(`Chromium is required in CI (looked for ${CHROMIUM})`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!haveChromium)('the demo page', () => {
  let dev: ChildProcess;
  let base: string;
  let browser: Browser;
  let stateDir: string;
  let output = '';

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    stateDir = mkdtempSync(join(tmpdir(), 'signet-demo-'));
    dev = spawn(process.execPath, [join(root, 'scripts/dev.ts')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), SIGNET_STATE_DIR: stateDir, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout?.on('data', (chunk) => (output += chunk));
    dev.stderr?.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 90_000;
    while (!output.includes('Signet is running at')) {
      if (Date.now() > deadline || dev.exitCode !== null) throw new Error(`npm run dev did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    browser = await chromium.launch({
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
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (dev && dev.exitCode === null) {
      dev.kill('SIGINT');
      await new Promise((resolve) => dev.once('exit', resolve));
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("shows two users each other's presence and messages", async () => {
    const [alice, bob] = await Promise.all([browser.newContext(), browser.newContext()]);
    const [a, b] = await Promise.all([alice.newPage(), bob.newPage()]);
    for (const [page, user] of [
      [a, 'Editor'],
      [b, 'Viewer'],
    ] as const) {
      await page.goto(base);
      await page.getByRole('button', { name: user, exact: true }).click();
      await page.getByText(`(${user.toLowerCase()})`).waitFor();
      await page.getByRole('button', { name: /Welcome to Signet/ }).click();
      await page.getByText(/^Connected as/).waitFor();
    }
    // Alice (editor) sees Bob (viewer) arrive, and Bob sees Alice in the room.
    await a.locator('#presence li', { hasText: 'viewer' }).waitFor();
    await b.locator('#presence li', { hasText: 'editor' }).waitFor();
    await a.locator('#text').fill('hello from the editor');
    await a.getByRole('button', { name: 'Publish' }).click();
    await b.locator('#messages li', { hasText: 'hello from the editor' }).waitFor();
    // The viewer may not publish: the room says so and nobody receives it.
    await b.locator('#text').fill('viewer tries');
    await b.getByRole('button', { name: 'Publish' }).click();
    await b.locator('#messages li', { hasText: 'INSUFFICIENT_PERMISSIONS' }).waitFor();
    expect(await a.locator('#messages li', { hasText: 'viewer tries' }).count()).toBe(0);
    await a.screenshot({ path: join(tmpdir(), 'signet-demo-editor.png'), fullPage: true });
    await Promise.all([alice.close(), bob.close()]);
  }, 90_000);
});
