/**
 * The demo page in a real browser (Debian's Chromium via playwright-core) against a real `npm run dev`
 * (wrangler dev on the embedded database): two browser contexts, signed in as different demo users,
 * see each other join the same room and see each other's messages.
 *
 * Without Chromium installed this test is skipped locally, and fails in CI (CI=true), where `.ci/run`
 * installs it.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from './support/chromium.ts';
import { type DevServer, startDevServer } from './support/dev-server.ts';

describe.skipIf(!haveChromium)('the demo page', () => {
  let server: DevServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startDevServer();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows two users each other's presence and messages", async () => {
    const [alice, bob] = await Promise.all([browser.newContext(), browser.newContext()]);
    const [a, b] = await Promise.all([alice.newPage(), bob.newPage()]);
    // Nothing the page loads is missing (the favicon was a 404 on every load).
    const failed: string[] = [];
    for (const page of [a, b])
      page.on('response', (r) => void (r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`)));
    for (const [page, user] of [
      [a, 'Editor'],
      [b, 'Viewer'],
    ] as const) {
      await page.goto(server.base);
      await page.getByRole('button', { name: user, exact: true }).click();
      await page.getByText(`(${user.toLowerCase()})`).waitFor();
      await page.getByRole('button', { name: /Welcome to Signet/ }).click();
      await page.getByText(/^Connected as/).waitFor();
    }
    // The editor sees the viewer arrive, and the viewer sees the editor in the room.
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
    expect(failed).toEqual([]);
    await Promise.all([alice.close(), bob.close()]);
  }, 90_000);

  it('serves its favicon', async () => {
    const response = await fetch(`${server.base}/favicon.ico`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/icon/);
    expect(new Uint8Array(await response.arrayBuffer()).slice(0, 4)).toEqual(new Uint8Array([0, 0, 1, 0]));
  });

  it('shows a close the server starts within 1 s: the document deleted under two open pages (4003)', async () => {
    const token = async (email: string) => {
      const response = await fetch(`${server.base}/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'dev', email, organization: 'demo' }),
      });
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const owner = await token('owner@demo.signet.dev');
    const created = await fetch(`${server.base}/v1/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Closing soon' }),
    });
    const { document } = (await created.json()) as { document: { id: string } };
    const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
    const pages = await Promise.all(contexts.map((c) => c.newPage()));
    for (const [page, user] of [
      [pages[0]!, 'Editor'],
      [pages[1]!, 'Viewer'],
    ] as const) {
      await page.goto(server.base);
      await page.getByRole('button', { name: user, exact: true }).click();
      await page.getByRole('button', { name: /Closing soon/ }).click();
      await page.getByText(/^Connected as/).waitFor();
    }
    await pages[0]!.locator('#presence li', { hasText: 'viewer' }).waitFor();
    const deleted = await fetch(`${server.base}/v1/documents/${document.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${owner}` },
    });
    expect(deleted.status).toBe(204);
    // The page shows the close from the browser's `close` event, so this is when that event fired.
    await Promise.all(
      pages.map((page) => page.getByText('Disconnected (close code 4003).').waitFor({ timeout: 1_000 })),
    );
    await Promise.all(contexts.map((c) => c.close()));
  }, 90_000);
});
