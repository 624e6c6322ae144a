// @ts-check
/**
 * The runtime-internal figures of `npm run bench`, measured inside workerd with Signet's real modules.
 * (JavaScript with JSDoc types, checked by `bench/workers/tsconfig.json` against the Workers types: the
 * Node-typed `scripts/tsconfig.json` project, which covers `bench/`, reads only `.ts` files.)
 *
 * `GET /compare?ops=raw,resolve&batch=B&rounds=R[&alg=ES256]` runs R rounds; each round times a batch of
 * B calls of every listed operation, alternating their order, and answers the mean µs per call of each
 * (`{ us: { raw, resolve } }`). Interleaving puts both operations under the same machine noise.
 *
 * - `raw`: `crypto.subtle.verify` of one token's signature (its bytes decoded once, outside the clock).
 * - `resolve`: that token → actor, uncached (the cache is emptied before each call), as a request does
 *   it: keys (`loadActorKeys`), structure, header, signature, claims, actor, cache fill, and the
 *   revocation check against an in-memory list (steady state: no database read).
 * - `cached`: the same token resolved again from a warm cache (the repeated-token path).
 * - `empty`: the loop alone.
 *
 * A batch is timed with `performance.now()` between two awaited timers, so the clock has advanced even
 * where workerd only moves it across I/O; its resolution (1 ms locally) is why batches, not calls.
 */
/** @import { TokenActor } from '../../../src/actor/actor.ts' */
/** @import { RevocationSource } from '../../../src/actor/resolve.ts' */
/** @import { ActorAlgorithm } from '../../../src/actor/tokens/keys.ts' */
import { resolveActorToken } from '../../../src/actor/resolve.ts';
import { VerifiedTokenCache } from '../../../src/actor/tokens/cache.ts';
import { loadActorKeys } from '../../../src/actor/tokens/keys.ts';
import { signActorToken } from '../../../src/actor/tokens/sign.ts';

const ISSUER = 'https://signet.bench';
const AUDIENCE = 'signet-bench';
const ORGANIZATION = '6f1c0d6e-8a43-4c55-9c0e-2f6a8d1b7e01';

/**
 * @typedef {object} Fixture
 * @property {string} rawKeys the key set as `ACTOR_SIGNING_KEYS` holds it
 * @property {string} token a real actor token signed with it
 * @property {CryptoKey} verifyKey
 * @property {{ name: string, hash?: string }} algorithm
 * @property {Uint8Array} signature
 * @property {Uint8Array} signingInput
 */

/** @type {Map<ActorAlgorithm, Promise<Fixture>>} */
const fixtures = new Map();

/** Steady state: the organization's revocation list is cached in memory (one Map lookup per use). */
const revokedAt = new Map([['user:00000000-0000-4000-8000-000000000000', 1]]);
/** @type {RevocationSource} */
const revocations = {
  /** @param {TokenActor} actor */
  async isRevoked(actor) {
    const at = revokedAt.get(`${actor.type}:${actor.id}`);
    return at !== undefined && actor.token.issuedAt <= at;
  },
};

/** @param {ActorAlgorithm} alg */
function fixture(alg) {
  let pending = fixtures.get(alg);
  if (!pending) {
    pending = makeFixture(alg);
    fixtures.set(alg, pending);
  }
  return pending;
}

/**
 * @param {ActorAlgorithm} alg
 * @returns {Promise<Fixture>}
 */
async function makeFixture(alg) {
  const params = alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(params, true, ['sign', 'verify']));
  const jwk = /** @type {JsonWebKey} */ (await crypto.subtle.exportKey('jwk', pair.privateKey));
  const rawKeys = JSON.stringify({ keys: [{ ...jwk, kid: `bench-${alg}`, alg }] });
  const keys = await loadActorKeys(rawKeys);
  const { token } = await signActorToken(
    keys,
    { type: 'user', sub: crypto.randomUUID(), org: ORGANIZATION, role: 'editor', sid: crypto.randomUUID() },
    { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 3600 },
  );
  const [header, payload, signature] = token.split('.');
  const key = keys.verifying.get(`bench-${alg}`);
  if (!key || !signature) throw new Error('fixture: no key or no signature');
  return {
    rawKeys,
    token,
    verifyKey: key.key,
    algorithm: alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' },
    signature: Uint8Array.from(atob(signature.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
    signingInput: new TextEncoder().encode(`${header}.${payload}`),
  };
}

const uncached = new VerifiedTokenCache();
const warm = new VerifiedTokenCache();

/** @type {Record<string, (f: Fixture) => Promise<unknown>>} */
const operations = {
  empty: async () => undefined,
  raw: async (f) => {
    if (!(await crypto.subtle.verify(f.algorithm, f.verifyKey, f.signature, f.signingInput))) {
      throw new Error('raw: the signature did not verify');
    }
  },
  resolve: async (f) => {
    uncached.clear();
    return resolveActorToken(f.token, {
      keys: await loadActorKeys(f.rawKeys),
      issuer: ISSUER,
      audience: AUDIENCE,
      revocations,
      cache: uncached,
    });
  },
  cached: async (f) =>
    resolveActorToken(f.token, {
      keys: await loadActorKeys(f.rawKeys),
      issuer: ISSUER,
      audience: AUDIENCE,
      revocations,
      cache: warm,
    }),
};

export default {
  /** @param {Request} request */
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== '/compare') return new Response('not found', { status: 404 });
    const names = (url.searchParams.get('ops') ?? '').split(',');
    const batch = Number(url.searchParams.get('batch'));
    const rounds = Number(url.searchParams.get('rounds'));
    const alg = url.searchParams.get('alg') === 'ES256' ? 'ES256' : 'EdDSA';
    const ops = names.map((name) => operations[name]);
    if (!ops.every((op) => op !== undefined) || !(batch >= 1 && batch <= 100_000) || !(rounds >= 1 && rounds <= 1000)) {
      return new Response('bad request', { status: 400 });
    }
    const f = await fixture(alg);
    const totals = names.map(() => 0);
    for (const op of ops) await op?.(f); // lazy set-up (key import, cache fill) outside the clock
    for (let round = 0; round < rounds; round++) {
      // Alternate the order every round so that no operation always runs first.
      for (let k = 0; k < ops.length; k++) {
        const index = round % 2 === 0 ? k : ops.length - 1 - k;
        const op = ops[index];
        if (!op) continue;
        await scheduler.wait(0);
        const start = performance.now();
        for (let i = 0; i < batch; i++) await op(f);
        await scheduler.wait(0);
        totals[index] = (totals[index] ?? 0) + performance.now() - start;
      }
    }
    const us = Object.fromEntries(names.map((name, i) => [name, ((totals[i] ?? 0) * 1000) / (batch * rounds)]));
    return Response.json({ us, batch, rounds, alg });
  },
};
