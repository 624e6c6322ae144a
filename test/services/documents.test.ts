import { beforeAll, describe, expect, it } from 'vitest';
import { countedDatabase } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

interface Doc {
  id: string;
  title: string;
  body: string;
  version: number;
  visibility: string;
}

describe('documents', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('creates, reads, updates with the current version, and deletes', async () => {
    const created = await call('POST', '/v1/documents', {
      token: t.tokens.editor,
      body: { title: 'Plan', body: 'v1' },
    });
    expect(created.status).toBe(201);
    const doc = (created.body as { document: Doc }).document;
    expect(doc).toMatchObject({ title: 'Plan', body: 'v1', version: 1, visibility: 'private' });

    const read = await call('GET', `/v1/documents/${doc.id}`, { token: t.tokens.viewer });
    expect((read.body as { document: Doc }).document).toEqual(doc);

    const updated = await call('PATCH', `/v1/documents/${doc.id}`, {
      token: t.tokens.editor,
      body: { body: 'v2', version: 1 },
    });
    expect((updated.body as { document: Doc }).document).toMatchObject({ title: 'Plan', body: 'v2', version: 2 });

    const stale = await call('PATCH', `/v1/documents/${doc.id}`, {
      token: t.tokens.editor,
      body: { body: 'lost', version: 1 },
    });
    expect([stale.status, errorCode(stale.body)]).toEqual([409, 'CONFLICT']);

    expect((await call('DELETE', `/v1/documents/${doc.id}`, { token: t.tokens.admin })).status).toBe(204);
    const gone = await call('GET', `/v1/documents/${doc.id}`, { token: t.tokens.viewer });
    expect([gone.status, errorCode(gone.body)]).toEqual([404, 'NOT_FOUND']);
    const patchGone = await call('PATCH', `/v1/documents/${doc.id}`, {
      token: t.tokens.editor,
      body: { body: 'x', version: 2 },
    });
    expect(patchGone.status).toBe(404);
  });

  it('pages through the list newest first with an opaque cursor, without repeats or gaps', async () => {
    const tenant = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await createDoc(tenant.tokens.editor, { title: `doc ${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
      const { status, body } = await call('GET', `/v1/documents${query}`, { token: tenant.tokens.viewer });
      expect(status).toBe(200);
      const page = body as { documents: Doc[]; nextCursor: string | null };
      seen.push(...page.documents.map((d) => d.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it.each([
    ['limit over 100', '?limit=101'],
    ['limit zero', '?limit=0'],
    ['limit not a number', '?limit=ten'],
    ['a malformed cursor', '?cursor=not-a-cursor'],
    ['a client-chosen tenant', '?organization_id=00000000-0000-0000-0000-000000000000'],
    ['a repeated parameter', '?limit=1&limit=2'],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_name, query) => {
    const { status, body } = await call('GET', `/v1/documents${query}`, { token: t.tokens.viewer });
    expect([status, errorCode(body)]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it.each([
    ['an unknown field', { title: 'x', color: 'red' }],
    ['a client-chosen tenant', { title: 'x', organizationId: '00000000-0000-0000-0000-000000000000' }],
    ['a missing title', { body: 'x' }],
    ['an empty title', { title: '   ' }],
    ['a wrong visibility', { title: 'x', visibility: 'secret' }],
    ['a title of the wrong type', { title: 42 }],
    ['a chosen version', { title: 'x', version: 7 }],
  ])('refuses a document with %s', async (_name, body) => {
    const response = await call('POST', '/v1/documents', { token: t.tokens.editor, body });
    expect([response.status, errorCode(response.body)]).toEqual([400, 'VALIDATION_FAILED']);
    expect((response.body as { error: { details: unknown[] } }).error.details.length).toBeGreaterThan(0);
  });

  it('refuses an update without a version', async () => {
    const doc = await createDoc(t.tokens.editor);
    const response = await call('PATCH', `/v1/documents/${doc.id}`, { token: t.tokens.editor, body: { title: 'x' } });
    expect([response.status, errorCode(response.body)]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('refuses a version no Postgres integer holds before the database sees it, and takes the largest one it does', async () => {
    const doc = await createDoc(t.tokens.editor);
    for (const version of [2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const response = await call('PATCH', `/v1/documents/${doc.id}`, {
        token: t.tokens.editor,
        body: { title: 'x', version },
      });
      expect([response.status, errorCode(response.body)]).toEqual([400, 'VALIDATION_FAILED']);
      expect(JSON.stringify(response.body)).toContain('version');
    }
    const stale = await call('PATCH', `/v1/documents/${doc.id}`, {
      token: t.tokens.editor,
      body: { title: 'x', version: 2 ** 31 - 1 },
    });
    expect([stale.status, errorCode(stale.body)]).toEqual([409, 'CONFLICT']);
  });

  it('answers 413 for a body over 64 KiB, and writes nothing', async () => {
    const before = await call('GET', '/v1/documents?limit=100', { token: t.tokens.viewer });
    const response = await call('POST', '/v1/documents', {
      token: t.tokens.editor,
      body: { title: 'big', body: 'x'.repeat(65 * 1024) },
    });
    expect([response.status, errorCode(response.body)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const after = await call('GET', '/v1/documents?limit=100', { token: t.tokens.viewer });
    expect((after.body as { documents: unknown[] }).documents.length).toBe(
      (before.body as { documents: unknown[] }).documents.length,
    );
  });

  it('answers 404 for an id that is not a uuid', async () => {
    const response = await call('GET', "/v1/documents/1'%20or%201=1", { token: t.tokens.viewer });
    expect([response.status, errorCode(response.body)]).toEqual([404, 'NOT_FOUND']);
  });

  it('costs one database round trip for a read, and one for a write with its audit event', async () => {
    const doc = await createDoc(t.tokens.editor);
    const { env: counted, roundTrips } = countedDatabase();
    await call('GET', `/v1/documents/${doc.id}`, { token: t.tokens.editor, env: counted }); // warm the revocation list
    let before = await roundTrips();
    expect((await call('GET', `/v1/documents/${doc.id}`, { token: t.tokens.editor, env: counted })).status).toBe(200);
    expect((await roundTrips()) - before).toBe(1);
    before = await roundTrips();
    const patch = { token: t.tokens.editor, body: { title: 'rt', version: 1 }, env: counted };
    expect((await call('PATCH', `/v1/documents/${doc.id}`, patch)).status).toBe(200);
    expect((await roundTrips()) - before).toBe(1);
  });

  it('loses no update when 20 writers race on one document', async () => {
    const doc = await createDoc(t.tokens.editor, { body: '' });
    const writer = async (n: number) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const current = (await call('GET', `/v1/documents/${doc.id}`, { token: t.tokens.editor })).body as {
          document: Doc;
        };
        const { status } = await call('PATCH', `/v1/documents/${doc.id}`, {
          token: t.tokens.editor,
          body: { body: `${current.document.body}[${n}]`, version: current.document.version },
        });
        if (status === 200) return attempt;
        expect(status).toBe(409);
      }
      throw new Error(`writer ${n} never got through`);
    };
    await Promise.all(Array.from({ length: 20 }, (_, n) => writer(n)));
    const final = ((await call('GET', `/v1/documents/${doc.id}`, { token: t.tokens.editor })).body as { document: Doc })
      .document;
    expect(final.version).toBe(21);
    for (let n = 0; n < 20; n++) expect(final.body).toContain(`[${n}]`);
    expect(final.body.match(/\[\d+\]/g)).toHaveLength(20);
  });
});
