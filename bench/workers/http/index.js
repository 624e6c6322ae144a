// @ts-check
/**
 * `http.pipeline_*` of `npm run bench`: Signet's whole fetch handler (`handleFetch`: request id, bearer
 * parsing, token → actor, revocation check, router, action with its permission check, the tenant
 * session's batch through the real Neon driver and drizzle, the JSON response, the log line) against a
 * Hono app (`hono/jwk`, the same EdDSA public key, the same token, the same claims checked) answering
 * the same JSON — both in this one isolate, alternated batch by batch.
 *
 * The database's I/O is kept out of the figure at the driver's boundary: `neonConfig.fetchFunction`
 * answers every Neon HTTP request from memory, at once, with what Postgres would return (the scope
 * statement's row, the document's row, an empty revocation list). Everything on the Worker's side of
 * that boundary — building the batch, JSON-encoding it, parsing and mapping the answer — stays in the
 * figure, for both apps: Hono's document route reads the same row through the same driver (one plain
 * query, no session scope: what a Hono + Neon app without row-level security sends). The stand-in's own
 * work (it plays the database server) is kept small: it parses the request and returns the answer it
 * built the first time it saw those statements.
 *
 * `GET /compare?ops=signet_me,hono_me&batch=B&rounds=R&fresh=1` answers the mean µs per request of each
 * operation, timed like `bench/workers/actor` (a batch between two awaited timers; workerd's clock only
 * moves across I/O). `fresh=1`: every request carries a token this isolate has not seen (the pool is
 * signed before the clock starts); otherwise one token, warm in Signet's cache, is repeated.
 *
 * Two more operations break the document read down (no request, no token): `session`, the read's
 * `runScoped` batch through drizzle and the driver (what `readDocument` sends), and `driver`, the same two
 * statements sent straight through the driver's `transaction`.
 */
/** @import { Env } from '../../../src/env.ts' */
import { neon, neonConfig } from '@neondatabase/serverless';
import { Hono } from 'hono';
import { jwk } from 'hono/jwk';
import { loadActorKeys } from '../../../src/actor/tokens/keys.ts';
import { signActorToken } from '../../../src/actor/tokens/sign.ts';
import { openDatabase } from '../../../src/db/client.ts';
import { SCOPE_SQL, scopeParameters, tenantScope } from '../../../src/db/scopes.ts';
import { runScoped } from '../../../src/db/session.ts';
import { handleFetch } from '../../../src/http/app.ts';
import { documentById } from '../../../src/services/document-statements.ts';

const ISSUER = 'https://signet.bench';
const AUDIENCE = 'signet-bench';
const ORGANIZATION = '6f1c0d6e-8a43-4c55-9c0e-2f6a8d1b7e01';
const DOCUMENT = '0b0f6a4e-1d2c-4c8e-9a57-3c1e2d4f5a60';
const DATABASE_URL = 'postgresql://bench:bench@db.bench.invalid/signet';
const ORIGIN = 'https://signet.bench';

/** The document row as Postgres returns it in the driver's raw-text array mode, keyed by column. */
const documentRow = /** @type {Record<string, string>} */ ({
  id: DOCUMENT,
  organization_id: ORGANIZATION,
  title: 'Bench document',
  body: 'A body of a few words, as a small document has.',
  visibility: 'private',
  version: '3',
  created_by: 'user:5d7a2a52-4a1e-4b9b-8d39-0c4c7f3e6b21',
  created_at: '2026-11-30 10:00:00.123+00',
  updated_at: '2026-11-30 10:05:00.456+00',
});
const INT4 = 23;
const TEXT = 25;

/**
 * One Neon result for one statement, from its SQL: the scope statement's row of settings, a
 * `documents` select's row (its columns in the order selected), and nothing for anything else (the
 * revocation refresh's two reads: no revocations).
 * @param {string} query
 */
function answer(query) {
  if (query === SCOPE_SQL) {
    const fields = [{ name: '?column?', dataTypeID: TEXT }];
    return { fields, command: 'SELECT', rowCount: 1, rows: [['signet_app']], rowAsArray: true };
  }
  if (/from "?documents"?/.test(query)) {
    const list = /^select (.*?) from/s.exec(query)?.[1] ?? '';
    // Each selected column as `"table"."column"`, `column` or `column as "alias"`.
    const columns = list.split(',').map((c) => {
      const [, source = '', alias] = /"?(\w+)"?(?:\s+as\s+"(\w+)")?\s*$/.exec(c.trim()) ?? [];
      return { source, name: alias ?? source };
    });
    const fields = columns.map((c) => ({ name: c.name, dataTypeID: c.source === 'version' ? INT4 : TEXT }));
    return {
      fields,
      command: 'SELECT',
      rowCount: 1,
      rows: [columns.map((c) => documentRow[c.source] ?? null)],
      rowAsArray: true,
    };
  }
  return { fields: [], command: 'SELECT', rowCount: 0, rows: [], rowAsArray: true };
}

let databaseRequests = 0;
/** The answer's JSON text for each sequence of statement texts seen (their parameters change nothing in it). */
const answers = new Map();
/**
 * Stands in for the database server, as cheaply as it can: the Worker's side of the boundary (the
 * driver building and sending the request, then parsing and mapping the answer) is what is timed, so the
 * stand-in's own work is kept to reading the request and looking its answer up, built once per shape.
 * @type {typeof fetch}
 */
const stubDatabase = async (_input, init) => {
  databaseRequests++;
  const body = JSON.parse(String(init?.body));
  const queries = /** @type {{ query: string }[]} */ (Array.isArray(body.queries) ? body.queries : [body]);
  const key = queries.map((q) => q.query).join('\0');
  let text = answers.get(key);
  if (text === undefined) {
    const results = queries.map((q) => answer(q.query));
    text = JSON.stringify(Array.isArray(body.queries) ? { results } : results[0]);
    answers.set(key, text);
  }
  return new Response(text, { headers: { 'content-type': 'application/json' } });
};
neonConfig.fetchFunction = stubDatabase;

/**
 * @typedef {object} Fixture
 * @property {Env} env
 * @property {string} token a token repeated (warm in Signet's cache)
 * @property {Hono<{ Variables: { jwtPayload: Record<string, string> } }>} hono
 * @property {() => Promise<string>} sign a new token for a new user of the organization
 */

/** @type {Promise<Fixture> | undefined} */
let pending;

async function makeFixture() {
  const pair = /** @type {CryptoKeyPair} */ (
    await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])
  );
  const privateJwk = /** @type {JsonWebKey} */ (await crypto.subtle.exportKey('jwk', pair.privateKey));
  const publicJwk = /** @type {JsonWebKey} */ (await crypto.subtle.exportKey('jwk', pair.publicKey));
  const rawKeys = JSON.stringify({ keys: [{ ...privateJwk, kid: 'bench-http', alg: 'EdDSA' }] });
  const env = /** @type {Env} */ (
    /** @type {unknown} */ ({
      ENVIRONMENT: 'production',
      ACTOR_ISSUER: ISSUER,
      ACTOR_AUDIENCE: AUDIENCE,
      ACTOR_TOKEN_TTL_SECONDS: '3600',
      ACTOR_SIGNING_KEYS: rawKeys,
      DATABASE_URL,
    })
  );
  const keys = await loadActorKeys(rawKeys);
  const sign = async () =>
    (
      await signActorToken(
        keys,
        { type: 'user', sub: crypto.randomUUID(), org: ORGANIZATION, role: 'editor', sid: crypto.randomUUID() },
        { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 3600 },
      )
    ).token;
  const sql = neon(DATABASE_URL);
  /** @type {Hono<{ Variables: { jwtPayload: Record<string, string> } }>} */
  const hono = new Hono();
  hono.use(
    '/v1/*',
    jwk({
      keys: [{ ...publicJwk, kid: 'bench-http', alg: 'EdDSA' }],
      alg: ['EdDSA'],
      verification: { iss: ISSUER, aud: AUDIENCE, typ: 'actor+jwt' },
    }),
  );
  hono.get('/v1/me', (c) => {
    const p = c.get('jwtPayload');
    return c.json({ actor: { type: 'user', id: p.sub, organizationId: p.org, role: p.role } });
  });
  hono.get('/v1/documents/:id', async (c) => {
    const p = c.get('jwtPayload');
    const rows =
      await sql`select "id", "organization_id", "title", "body", "visibility", "version", "created_by", "created_at", "updated_at" from "documents" where "id" = ${c.req.param('id')} and "organization_id" = ${p.org}`;
    const row = rows[0];
    if (!row) return c.json({ error: { code: 'NOT_FOUND' } }, 404);
    return c.json({
      document: {
        id: row.id,
        title: row.title,
        body: row.body,
        visibility: row.visibility,
        version: Number(row.version),
        createdBy: row.created_by,
        createdAt: new Date(row.created_at).toISOString(),
        updatedAt: new Date(row.updated_at).toISOString(),
      },
    });
  });
  return { env, token: await sign(), hono, sign };
}

/** @type {ExecutionContext} */
const executionContext = /** @type {ExecutionContext} */ (
  /** @type {unknown} */ ({ waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} })
);

/**
 * @param {string} path
 * @param {string} token
 */
const request = (path, token) => new Request(`${ORIGIN}${path}`, { headers: { authorization: `Bearer ${token}` } });

/** @typedef {{ app: 'signet' | 'hono' | 'session' | 'driver', path: string }} Operation */
/** @type {Record<string, Operation>} */
const operations = {
  signet_me: { app: 'signet', path: '/v1/me' },
  hono_me: { app: 'hono', path: '/v1/me' },
  signet_doc: { app: 'signet', path: `/v1/documents/${DOCUMENT}` },
  hono_doc: { app: 'hono', path: `/v1/documents/${DOCUMENT}` },
  session: { app: 'session', path: '' },
  driver: { app: 'driver', path: '' },
};

/**
 * @param {Fixture} f
 * @param {Operation} op
 * @param {string} token
 */
async function run(f, op, token) {
  if (op.app === 'session') {
    const db = openDatabase(f.env);
    const scope = tenantScope({ type: 'user', id: ORGANIZATION, organizationId: ORGANIZATION });
    const [result] = await runScoped(db, scope, [documentById(ORGANIZATION, DOCUMENT)]);
    if (!result.rows[0]) throw new Error('session: no row');
    return;
  }
  if (op.app === 'driver') {
    const sql = neon(DATABASE_URL);
    const scope = tenantScope({ type: 'user', id: ORGANIZATION, organizationId: ORGANIZATION });
    const [, rows] = await sql.transaction([
      sql.query(SCOPE_SQL, scopeParameters(scope, 8_000)),
      sql`select id, title, body, visibility, version, created_by as "createdBy", created_at as "createdAt",
  updated_at as "updatedAt" from documents where id = ${DOCUMENT} and organization_id = ${ORGANIZATION}`,
    ]);
    if (!rows?.[0]) throw new Error('driver: no row');
    return;
  }
  const req = request(op.path, token);
  const response = op.app === 'signet' ? await handleFetch(req, f.env, executionContext) : await f.hono.fetch(req);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${op.app} ${op.path}: ${response.status} ${text.slice(0, 200)}`);
}

let sinkMode = false;
const consoleLog = console.log.bind(console);
/** @param {unknown[]} args */
console.log = (...args) => {
  if (sinkMode) return;
  consoleLog(...args);
};

export default {
  /** @param {Request} incoming */
  async fetch(incoming) {
    const url = new URL(incoming.url);
    if (url.pathname !== '/compare') return new Response('not found', { status: 404 });
    const names = (url.searchParams.get('ops') ?? '').split(',');
    const batch = Number(url.searchParams.get('batch'));
    const rounds = Number(url.searchParams.get('rounds'));
    const fresh = url.searchParams.get('fresh') === '1';
    const ops = names.map((name) => operations[name]);
    if (!ops.every((op) => op !== undefined) || !(batch >= 1 && batch <= 10_000) || !(rounds >= 1 && rounds <= 200)) {
      return new Response('bad request', { status: 400 });
    }
    sinkMode = url.searchParams.get('sink') !== '0';
    pending ??= makeFixture();
    const f = await pending;
    // Outside the clock: one request of each (JIT, key import, the organization's revocation list), and
    // for `fresh`, a pool of new tokens: each round's batch of every operation uses the same tokens, once each.
    for (const op of ops) if (op) await run(f, op, f.token);
    /** @type {string[]} */
    const pool = [];
    if (fresh) for (let i = 0; i < batch * rounds; i++) pool.push(await f.sign());
    const totals = names.map(() => 0);
    const before = databaseRequests;
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < ops.length; k++) {
        const index = round % 2 === 0 ? k : ops.length - 1 - k;
        const op = ops[index];
        if (!op) continue;
        await scheduler.wait(0);
        const start = performance.now();
        for (let i = 0; i < batch; i++)
          await run(f, op, fresh ? /** @type {string} */ (pool[round * batch + i]) : f.token);
        await scheduler.wait(0);
        totals[index] = (totals[index] ?? 0) + performance.now() - start;
      }
    }
    const us = Object.fromEntries(names.map((name, i) => [name, ((totals[i] ?? 0) * 1000) / (batch * rounds)]));
    return Response.json({ us, batch, rounds, fresh, databaseRequests: databaseRequests - before });
  },
};
