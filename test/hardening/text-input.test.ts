/**
 * SPEC §3 "Text input": a string with a NUL character or invalid UTF-16 (a lone surrogate) is refused
 * with 400 `VALIDATION_FAILED` (with `details`) wherever the API accepts text — bodies, query strings,
 * path segments, an ID token's claims — and nothing of it reaches the database. Postgres refuses NUL
 * in `text`; before this check the driver's error escaped as a 500.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, unique } from '../support/database.ts';
import { call, type ErrorBody } from '../support/http.ts';
import { idToken } from '../support/idp.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

const NUL = 'a\u0000b';
const HIGH = 'a\ud800b';
const LOW = '\udc00';
const UNCLEAN = [NUL, HIGH, LOW];

function expectRefused(response: { status: number; body: unknown }, path?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  const error = (response.body as ErrorBody).error;
  expect(error.code).toBe('VALIDATION_FAILED');
  expect(Array.isArray(error.details)).toBe(true);
  if (path !== undefined) expect((error.details as { path: string }[]).map((d) => d.path)).toContain(path);
}

describe('text with NUL or invalid UTF-16', () => {
  let t: Tenant;
  let docId: string;
  beforeAll(async () => {
    t = await createTenant();
    docId = (await createDoc(t.tokens.owner)).id;
  });

  it('is refused in a document title and body, on create and update, and nothing is written', async () => {
    for (const text of UNCLEAN) {
      const marker = unique('nul');
      expectRefused(await call('POST', '/v1/documents', { token: t.tokens.editor, body: { title: text } }), 'title');
      expectRefused(
        await call('POST', '/v1/documents', { token: t.tokens.editor, body: { title: marker, body: text } }),
        'body',
      );
      expectRefused(
        await call('PATCH', `/v1/documents/${docId}`, { token: t.tokens.editor, body: { title: text, version: 1 } }),
        'title',
      );
      expectRefused(
        await call('PATCH', `/v1/documents/${docId}`, { token: t.tokens.editor, body: { body: text, version: 1 } }),
        'body',
      );
      const rows = await adminSql()`select id from documents where title = ${marker}`;
      expect(rows).toEqual([]);
    }
    const doc = await call('GET', `/v1/documents/${docId}`, { token: t.tokens.viewer });
    expect((doc.body as { document: { version: number } }).document.version).toBe(1);
  });

  it('is refused in an organization name', async () => {
    const { tokens } = t;
    for (const text of UNCLEAN) {
      const slug = unique('o').toLowerCase().slice(0, 40);
      expectRefused(await call('POST', '/v1/orgs', { token: tokens.owner, body: { name: text, slug } }), 'name');
      expect(await adminSql()`select id from organizations where slug = ${slug}`).toEqual([]);
    }
  });

  it('is refused in an API key name', async () => {
    for (const text of UNCLEAN) {
      const response = await call('POST', '/v1/api-keys', {
        token: t.tokens.owner,
        body: { name: text, scopes: ['documents:read'] },
      });
      expectRefused(response, 'name');
    }
  });

  it('is refused in a member email and a dev-grant email', async () => {
    for (const text of UNCLEAN) {
      const email = `${unique('m')}${text}@example.com`;
      expectRefused(await call('POST', '/v1/members', { token: t.tokens.owner, body: { email, role: 'viewer' } }));
      expectRefused(await call('POST', '/v1/auth/token', { body: { grant_type: 'dev', email } }));
    }
  });

  it('is refused in a field name and in nested values', async () => {
    expectRefused(await call('POST', '/v1/documents', { token: t.tokens.editor, body: { title: 'x', [NUL]: 1 } }));
    const response = await call('POST', '/v1/api-keys', {
      token: t.tokens.owner,
      body: { name: 'k', scopes: ['documents:read', HIGH] },
    });
    expectRefused(response, 'scopes.1');
  });

  it('is refused in an ID token’s email and name', async () => {
    for (const text of UNCLEAN) {
      for (const claims of [
        { email: `${unique('idp')}${text}@example.com` },
        { email: `${unique('idp')}@example.com`, name: text },
      ]) {
        const response = await call('POST', '/v1/auth/token', {
          body: { grant_type: 'id_token', id_token: await idToken(claims) },
        });
        expectRefused(response);
      }
    }
  });

  it('is refused in a query string', async () => {
    for (const query of ['cursor=%00', 'cursor=a%00b', `limit=1${encodeURIComponent('\u0000')}`, '%00=1']) {
      for (const path of ['/v1/documents', '/v1/audit']) {
        expectRefused(await call('GET', `${path}?${query}`, { token: t.tokens.owner }));
      }
    }
  });

  it('is refused in a path segment (NUL, or bytes that are not UTF-8)', async () => {
    for (const segment of ['%00', `${docId}%00`, '%ED%A0%80', '%FF']) {
      for (const kind of ['documents', 'members', 'api-keys', 'jobs', 'public/documents']) {
        expectRefused(await call('GET', `/v1/${kind}/${segment}`, { token: t.tokens.owner }));
      }
    }
  });
});
