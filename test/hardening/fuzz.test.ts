/**
 * Hostile input, generated (fast-check): every JSON body, query string, path and room frame either
 * works or gets a 4xx in the SPEC's shape — never a 5xx, a hang, or a partial write.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.ts';
import { connected } from '../support/sockets.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

const RUNS = 150;

function expectWellFormed(response: { status: number; body: unknown }) {
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
  if (response.status >= 400) {
    const error = (response.body as { error?: Record<string, unknown> })?.error;
    expect(error).toBeDefined();
    expect(typeof error!.code).toBe('string');
    expect(typeof error!.message).toBe('string');
    expect(typeof error!.requestId).toBe('string');
  }
}

/** Objects shaped like the real inputs — right keys with wrong values, extra keys — and arbitrary JSON. */
function bodies(keys: string[]) {
  const value = fc.oneof(
    fc.jsonValue(),
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.constantFrom('viewer', 'admin', 'owner', 'public', 'private', 'dev', 'api_key', 'id_token', 'documents:read'),
    fc.string({ minLength: 60_000, maxLength: 70_000 }),
  );
  return fc.oneof(
    fc.dictionary(fc.constantFrom(...keys, 'organizationId', '__proto__', 'constructor', 'extra'), value, {
      maxKeys: keys.length + 2,
    }),
    fc.jsonValue(),
  );
}

describe('fuzzed JSON bodies', () => {
  let t: Tenant;
  let docId: string;
  beforeAll(async () => {
    t = await createTenant();
    docId = (await createDoc(t.tokens.owner)).id;
  });

  const endpoints: [string, string, () => string, string[]][] = [
    ['POST', '/v1/auth/token', () => '', ['grant_type', 'email', 'organization', 'ttl_seconds', 'api_key', 'id_token']],
    ['POST', '/v1/orgs', () => '', ['name', 'slug']],
    ['POST', '/v1/documents', () => '', ['title', 'body', 'visibility']],
    ['PATCH', '/v1/documents/', () => docId, ['title', 'body', 'visibility', 'version']],
    ['POST', '/v1/members', () => '', ['email', 'role']],
    ['PATCH', '/v1/members/', () => t.userIds.viewer, ['role']],
    ['POST', '/v1/api-keys', () => '', ['name', 'scopes']],
  ];

  for (const [method, path, suffix, keys] of endpoints) {
    it(`${method} ${path}${path.endsWith('/') ? ':id' : ''} never answers 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies(keys), async (body) => {
          expectWellFormed(await call(method, `${path}${suffix()}`, { token: t.tokens.viewer, body }));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('raw bytes as a body never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (rawBody) => {
        expectWellFormed(await call('POST', '/v1/documents', { token: t.tokens.editor, rawBody }));
      }),
      { numRuns: RUNS },
    );
  });

  it('a lying content-length never answers 5xx', async () => {
    const response = await call('POST', '/v1/documents', {
      token: t.tokens.editor,
      rawBody: '{"title":"x"}',
      headers: { 'content-length': '999999999' },
    });
    expectWellFormed(response);
  });
});

describe('fuzzed query strings and paths', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('query parameters never answer 5xx', async () => {
    const param = fc.tuple(fc.constantFrom('limit', 'cursor', 'organization', 'x'), fc.string({ maxLength: 80 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(param, { maxLength: 4 }),
        fc.constantFrom('/v1/documents', '/v1/audit', '/v1/members'),
        async (params, path) => {
          const query = new URLSearchParams(params).toString();
          expectWellFormed(await call('GET', `${path}?${query}`, { token: t.tokens.owner }));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('odd bytes in path segments never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
        fc.constantFrom('documents', 'members', 'api-keys', 'jobs', 'public/documents'),
        async (segment, kind) => {
          const response = await call('GET', `/v1/${kind}/${encodeURIComponent(segment)}`, { token: t.tokens.owner });
          expectWellFormed(response);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('odd header values never answer 5xx', async () => {
    for (const authorization of [
      'Bearer',
      `Bearer ${'a'.repeat(20_000)}`,
      'bearer x.y.z',
      'Bearer ..',
      'Bearer a..b',
      'Bearer\tx.y.z',
    ]) {
      expectWellFormed(await call('GET', '/v1/me', { headers: { authorization } }));
    }
  });
});

describe('fuzzed room frames', () => {
  it('never break the room: error frames or delivery, the socket open until abuse limits', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          type: fc.constantFrom('publish', 'reauth', 'ping', 'welcome', 'message'),
          data: fc.jsonValue(),
          token: fc.string(),
        })
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (frames) => {
        const client = await connected(doc.id, t.tokens.editor);
        for (const f of frames) client.send(f);
        client.send({ type: 'publish', data: 'marker' });
        // The room keeps working after the garbage: the marker is delivered (or the connection was closed
        // for abuse with 4008 — never 1011).
        const outcome = await Promise.race([
          client.next((f) => f.type === 'message' && f.data === 'marker').then(() => 'delivered'),
          client.closed.then((c) => `closed ${c.code}`),
        ]);
        expect(['delivered', 'closed 4008']).toContain(outcome);
        for (const f of client.frames.filter((x) => x.type === 'error')) {
          expect(typeof f.code).toBe('string');
          expect(typeof f.message).toBe('string');
        }
        client.ws.close(1000);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
