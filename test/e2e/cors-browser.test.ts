/**
 * CORS from a real browser (Debian's Chromium via playwright-core) against a real `npm run dev` started with
 * `CORS_ALLOWED_ORIGINS`: a page on a listed second origin calls the API with a token (a preflighted POST,
 * then a GET) and reads the answers and their `x-request-id`; a page on an unlisted origin is refused by the
 * browser (the preflight fails, so the POST never reaches the server).
 *
 * Without Chromium installed this test is skipped locally, and fails in CI (CI=true), where `.ci/run`
 * installs it.
 */
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/dev-server.ts';
import { haveChromium, launchChromium } from './support/chromium.ts';
import { type DevServer, startDevServer } from './support/dev-server.ts';

/** A page server on its own port: a second origin, which serves an empty page. */
async function pageServer(): Promise<{ origin: string; server: Server }> {
  const port = await freePort();
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${port}`, server };
}

interface Outcome {
  created?: { status: number; requestId: string | null; title?: string };
  listed?: { status: number; requestId: string | null; count: number };
  error?: string;
}

/** Runs in the page: a preflighted POST with a bearer token, then a GET, reading status, body and header. */
async function callFromPage(args: { api: string; token: string; title: string }): Promise<Outcome> {
  const outcome: Outcome = {};
  try {
    const headers = { authorization: `Bearer ${args.token}`, 'content-type': 'application/json' };
    const post = await fetch(`${args.api}/v1/documents`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: args.title }),
    });
    const created = (await post.json()) as { document?: { title: string } };
    outcome.created = {
      status: post.status,
      requestId: post.headers.get('x-request-id'),
      title: created.document?.title,
    };
    const get = await fetch(`${args.api}/v1/documents?limit=100`, {
      headers: { authorization: headers.authorization },
    });
    const listed = (await get.json()) as { documents: unknown[] };
    outcome.listed = { status: get.status, requestId: get.headers.get('x-request-id'), count: listed.documents.length };
  } catch (error) {
    outcome.error = String(error);
  }
  return outcome;
}

describe.skipIf(!haveChromium)('CORS in Chromium', () => {
  let api: DevServer;
  let allowed: { origin: string; server: Server };
  let unlisted: { origin: string; server: Server };
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    allowed = await pageServer();
    unlisted = await pageServer();
    api = await startDevServer({ env: { CORS_ALLOWED_ORIGINS: `https://elsewhere.example ${allowed.origin}` } });
    const response = await fetch(`${api.base}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'dev', email: 'editor@demo.signet.dev', organization: 'demo' }),
    });
    token = ((await response.json()) as { access_token: string }).access_token;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await new Promise((resolve) => allowed?.server.close(resolve));
    await new Promise((resolve) => unlisted?.server.close(resolve));
  });

  const titles = async () => {
    const response = await fetch(`${api.base}/v1/documents?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return ((await response.json()) as { documents: { title: string }[] }).documents.map((d) => d.title);
  };

  it('lets a page on a listed origin call the API and read x-request-id', async () => {
    const page = await browser.newPage();
    await page.goto(`${allowed.origin}/`);
    const outcome = await page.evaluate(callFromPage, { api: api.base, token, title: 'from the allowed origin' });
    await page.close();
    expect(outcome.error).toBeUndefined();
    expect(outcome.created).toMatchObject({ status: 201, title: 'from the allowed origin' });
    expect(outcome.created?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.listed?.status).toBe(200);
    expect(outcome.listed?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await titles()).toContain('from the allowed origin');
  });

  it('refuses a page on an unlisted origin: the browser blocks it and nothing is written', async () => {
    const page = await browser.newPage();
    await page.goto(`${unlisted.origin}/`);
    const outcome = await page.evaluate(callFromPage, { api: api.base, token, title: 'from an unlisted origin' });
    await page.close();
    expect(outcome.created).toBeUndefined();
    expect(outcome.error).toMatch(/TypeError: Failed to fetch/);
    expect(await titles()).not.toContain('from an unlisted origin');
  });
});
