import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import { countedDatabase, createDocument, createOrganization } from '../support/database.ts';
import { call, executionContext } from '../support/http.ts';

describe('GET /v1/public/documents/:id', () => {
  let publicId: string;
  let privateId: string;

  beforeAll(async () => {
    const org = await createOrganization();
    publicId = (await createDocument(org.id, { title: 'Hello', body: 'world', visibility: 'public' })).id;
    privateId = (await createDocument(org.id, { title: 'Secret', visibility: 'private' })).id;
  });

  it('shows a public document to a guest', async () => {
    const response = await SELF.fetch(`http://signet.test/v1/public/documents/${publicId}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { document: { id: string; title: string; visibility: string } };
    expect(body.document).toMatchObject({ id: publicId, title: 'Hello', body: 'world', visibility: 'public' });
  });

  it('does not disclose a private document', async () => {
    const response = await SELF.fetch(`http://signet.test/v1/public/documents/${privateId}`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('answers 404, not 500, for an id that is not a uuid', async () => {
    const response = await SELF.fetch(`http://signet.test/v1/public/documents/not-a-uuid'--`);
    expect(response.status).toBe(404);
  });

  it('costs one database round trip', async () => {
    const { env: counted, roundTrips } = countedDatabase();
    const before = await roundTrips();
    const response = await call('GET', `/v1/public/documents/${publicId}`, { env: counted });
    expect(response.status).toBe(200);
    expect((await roundTrips()) - before).toBe(1);
  });

  it('answers 503 DATABASE_UNAVAILABLE when the database cannot be reached', async () => {
    const unreachable = { ...env, DATABASE_PROXY_URL: 'http://127.0.0.1:9' };
    const response = await worker.fetch(
      new Request(`http://signet.test/v1/public/documents/${publicId}`),
      unreachable,
      executionContext,
    );
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('DATABASE_UNAVAILABLE');
    expect(body.error.message).not.toMatch(/127\.0\.0\.1|postgres/);
  });
});
