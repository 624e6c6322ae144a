/**
 * The route table (`src/http/routes.ts`): the router is built from it alone, and every entry reads its
 * request the same way: a query only where the entry declares one, a body only through its schema.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { route } from '../../src/http/route.ts';
import { router } from '../../src/http/router.ts';
import { ROUTES } from '../../src/http/routes.ts';
import { call, type ErrorBody } from '../support/http.ts';
import { createTenant, type Tenant } from '../support/tenants.ts';

const concrete = (path: string) => path.replace(/:\w+/g, crypto.randomUUID());

describe('the route table', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('is what the router serves, entry for entry, and anything else is 404', async () => {
    const served = router.routes.map(([method, , , path]) => `${method.toLowerCase()} ${path}`);
    expect(served).toEqual([...ROUTES.map((r) => `${r.method} ${r.path}`), 'all *']);
    const unknown = await call('GET', '/v1/nothing-here', { token: t.tokens.owner });
    expect(unknown.status).toBe(404);
    expect((unknown.body as ErrorBody).error.code).toBe('NOT_FOUND');
  });

  it('refuses any query parameter on every route that declares no query, before anything but a guest', async () => {
    const without = ROUTES.filter((r) => r.query === undefined);
    expect(without.length).toBeGreaterThan(20);
    for (const entry of without) {
      for (const token of [t.tokens.owner, undefined]) {
        const response = await call(entry.method.toUpperCase(), `${concrete(entry.path)}?organization=x`, { token });
        const { error } = response.body as ErrorBody;
        if (token === undefined && entry.refusesGuestsFirst) {
          expect([response.status, error.code], `${entry.method} ${entry.path}`).toEqual([
            401,
            'AUTHENTICATION_REQUIRED',
          ]);
          continue;
        }
        expect(response.status, `${entry.method} ${entry.path}`).toBe(400);
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.details).toEqual([expect.objectContaining({ path: 'organization' })]);
      }
    }
    // An empty query string is no parameter.
    expect((await call('GET', '/v1/members?', { token: t.tokens.owner })).status).toBe(200);
  });

  it('reads the query of a route that declares one against its schema', async () => {
    for (const path of ['/v1/documents', '/v1/audit']) {
      expect((await call('GET', `${path}?limit=1`, { token: t.tokens.owner })).status).toBe(200);
      const unknown = await call('GET', `${path}?limit=1&organization=x`, { token: t.tokens.owner });
      expect(unknown.status).toBe(400);
      expect((unknown.body as ErrorBody).error.details).toEqual([expect.objectContaining({ path: 'organization' })]);
      // A page size is decimal digits: what Number() would also read (hex, exponent, spaces, fraction) is 400.
      for (const limit of ['0x10', '1e1', '%205', '5.0', '', '0', '101', '1000', '-1']) {
        const refused = await call('GET', `${path}?limit=${limit}`, { token: t.tokens.owner });
        expect(refused.status, `limit=${limit}`).toBe(400);
        expect((refused.body as ErrorBody).error.details).toEqual([expect.objectContaining({ path: 'limit' })]);
      }
      const padded = await call('GET', `${path}?limit=007`, { token: t.tokens.owner });
      expect(padded.status).toBe(200);
    }
  });

  it('answers a guest on a route for actors 401 before it reads what the guest sent', async () => {
    const guarded = ROUTES.filter((r) => r.refusesGuestsFirst);
    expect(new Set(guarded.map((r) => r.who))).toEqual(new Set(['member', 'user']));
    expect(guarded.map((r) => `${r.method} ${r.path}`)).toContain('post /v1/orgs');
    // The room finds a bearer in its subprotocols too: a guest gets that far (and is refused there).
    expect(guarded.map((r) => r.path)).not.toContain('/v1/rooms/:documentId');
    for (const entry of guarded) {
      const method = entry.method.toUpperCase();
      const path = `${concrete(entry.path)}${entry.query ? '?limit=0x10' : ''}`;
      const response = await call(method, path, { rawBody: entry.body ? '{not json' : undefined });
      const { error } = response.body as ErrorBody;
      expect([response.status, error.code], `${method} ${entry.path}`).toEqual([401, 'AUTHENTICATION_REQUIRED']);
    }
  });

  it('checks every body against its schema: an unknown field is 400, over 64 KiB is 413', async () => {
    const withBody = ROUTES.filter((r) => r.body !== undefined);
    expect(withBody.map((r) => `${r.method} ${r.path}`)).toContain('post /v1/documents/:id/exports');
    for (const entry of withBody) {
      const method = entry.method.toUpperCase();
      const path = concrete(entry.path);
      const unknown = await call(method, path, { token: t.tokens.owner, body: { unexpected: 1 } });
      expect(unknown.status, `${method} ${entry.path}`).toBe(400);
      expect((unknown.body as ErrorBody).error.code).toBe('VALIDATION_FAILED');
      const large = await call(method, path, { token: t.tokens.owner, rawBody: `"${'x'.repeat(65 * 1024)}"` });
      expect(large.status, `${method} ${entry.path}`).toBe(413);
    }
  });

  it('takes its permissions from the actions, and refuses a member route without one', () => {
    const permissions = Object.fromEntries(ROUTES.map((r) => [`${r.method} ${r.path}`, r.permission]));
    expect(permissions).toMatchObject({
      'get /v1/documents': 'documents:read',
      'delete /v1/documents/:id': 'documents:delete',
      'get /v1/rooms/:documentId': 'rooms:join',
      'delete /v1/orgs/current': 'org:delete',
      'get /v1/delegations': null,
      'get /health': null,
    });
    expect(() =>
      route({
        method: 'get',
        path: '/v1/nothing',
        summary: 'A member route that names no action',
        tag: 'meta',
        who: 'member',
        ok: [200, 'ok'],
        errors: [],
        handle: () => ({}),
      }),
    ).toThrow(/names its action/);
  });
});
