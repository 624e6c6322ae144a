/**
 * The demo page in a real browser (Debian's Chromium via playwright-core) against a real `npm run dev`
 * (wrangler dev on the embedded database): two browser contexts, signed in as different demo users,
 * see each other join the same room and see each other's messages, and edit one document together.
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

async function devToken(base: string, email: string): Promise<string> {
  const response = await fetch(`${base}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'dev', email, organization: 'demo' }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

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

  it("is a collaborative editor: the editor's typing appears in the viewer's page; the viewer's is read-only and refused", async () => {
    const owner = await devToken(server.base, 'owner@demo.signet.dev');
    const created = await fetch(`${server.base}/v1/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Shared notes', body: 'Agenda: ' }),
    });
    const { document } = (await created.json()) as { document: { id: string } };
    const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
    const [editor, viewer] = await Promise.all(contexts.map((c) => c.newPage()));
    for (const [page, user] of [
      [editor!, 'Editor'],
      [viewer!, 'Viewer'],
    ] as const) {
      await page.goto(server.base);
      await page.getByRole('button', { name: user, exact: true }).click();
      await page.getByRole('button', { name: /Shared notes/ }).click();
      await page.locator('#body:not([disabled])').waitFor();
    }
    expect(await viewer!.locator('#body').inputValue()).toBe('Agenda: ');
    // Real keystrokes in the editor's page, at the end of the text.
    await editor!.locator('#body').click();
    await editor!.keyboard.press('End');
    await editor!.keyboard.type('ship Yjs');
    await expect.poll(() => viewer!.locator('#body').inputValue(), { timeout: 5000 }).toBe('Agenda: ship Yjs');
    // Who is in the document, by the names the room stamped with each actor.
    await editor!.locator('#editing span', { hasText: /^viewer [0-9a-f]{8}: viewer@demo\.signet\.dev$/ }).waitFor();
    await viewer!.locator('#editing span', { hasText: /^editor [0-9a-f]{8}: editor@demo\.signet\.dev$/ }).waitFor();

    // The viewer's page is read-only; an edit forced past it (as a modified page could) is refused by the room.
    expect(await viewer!.locator('#body').getAttribute('readonly')).not.toBeNull();
    await viewer!.evaluate('window.signetDemo.room.doc.getText("body").insert(0, "viewer was here ")');
    await viewer!.locator('#messages li', { hasText: 'INSUFFICIENT_PERMISSIONS' }).waitFor();
    await editor!.keyboard.type('!');
    // The viewer's own copy still holds its refused edit, but nobody else ever sees it.
    await expect.poll(() => viewer!.locator('#body').inputValue(), { timeout: 5000 }).toMatch(/ship Yjs!$/);
    expect(await editor!.locator('#body').inputValue()).toBe('Agenda: ship Yjs!');

    // Saved to Postgres within 5 s of the edits, as the editor.
    let body = '';
    for (let i = 0; i < 50 && body !== 'Agenda: ship Yjs!'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const read = await fetch(`${server.base}/v1/documents/${document.id}`, {
        headers: { authorization: `Bearer ${owner}` },
      });
      body = ((await read.json()) as { document: { body: string } }).document.body;
    }
    expect(body).toBe('Agenda: ship Yjs!');
    await editor!.screenshot({ path: join(tmpdir(), 'signet-demo-collaborative.png'), fullPage: true });
    await Promise.all(contexts.map((c) => c.close()));
  }, 90_000);

  it('serves its favicon', async () => {
    const response = await fetch(`${server.base}/favicon.ico`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/icon/);
    expect(new Uint8Array(await response.arrayBuffer()).slice(0, 4)).toEqual(new Uint8Array([0, 0, 1, 0]));
  });

  it('shows a close the server starts within 1 s: the document deleted under two open pages (4003)', async () => {
    const owner = await devToken(server.base, 'owner@demo.signet.dev');
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
