/**
 * The IdP JWKS cache: zero fetches per exchange in steady state, one shared in-flight fetch for
 * concurrent exchanges, one forced refresh for a rotated key, none for an unknown kid within the
 * cooldown. Fetches are counted by the local IdP server itself.
 */
import { env } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { forgetIdpJwks, idpJwksFetchCount } from '../../src/actor/idp.ts';
import worker from '../../src/index.ts';
import { executionContext } from '../support/http.ts';
import { idpJwksFetches, idpKey, idToken, rotateIdpKey } from '../support/idp.ts';

// This file's own JWKS URL (same IdP, its own `suite`), so exchanges in test files running in parallel
// never show up in its fetch counts.
const SUITE = crypto.randomUUID();
const JWKS_URL = `${env.IDP_JWKS_URL}?suite=${SUITE}`;
const fetches = () => idpJwksFetches(SUITE);

async function exchange(id_token: string): Promise<number> {
  const request = new Request('http://signet.test/v1/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'id_token', id_token }),
  });
  return (await worker.fetch(request, { ...env, IDP_JWKS_URL: JWKS_URL }, executionContext)).status;
}

describe('IdP JWKS caching', () => {
  beforeEach(async () => {
    await forgetIdpJwks({ shared: JWKS_URL });
  });

  it('fetches the JWKS once for many exchanges', async () => {
    const before = await fetches();
    for (let i = 0; i < 25; i++) expect(await exchange(await idToken({ email: `steady${i}@example.com` }))).toBe(200);
    expect((await fetches()) - before).toBe(1);
  });

  it('shares one in-flight fetch between concurrent exchanges', async () => {
    const tokens = await Promise.all(Array.from({ length: 12 }, (_, i) => idToken({ email: `burst${i}@example.com` })));
    const before = await fetches();
    const statuses = await Promise.all(tokens.map(exchange));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect((await fetches()) - before).toBe(1);
  });

  it('survives a fresh isolate through caches.default', async () => {
    expect(await exchange(await idToken({ email: 'warm@example.com' }))).toBe(200);
    await forgetIdpJwks(); // module memory gone, as in a new isolate; the shared cache stays
    const before = await fetches();
    expect(await exchange(await idToken({ email: 'cold@example.com' }))).toBe(200);
    expect((await fetches()) - before).toBe(0);
  });

  it('refreshes once for a rotated key, and not again for an unknown kid within the cooldown', async () => {
    expect(await exchange(await idToken({ email: 'before-rotation@example.com' }))).toBe(200);
    const rotated = await rotateIdpKey();
    const before = await fetches();
    expect(await exchange(await idToken({ email: 'after-rotation@example.com' }, { key: rotated }))).toBe(200);
    expect((await fetches()) - before).toBe(1);
    const stranger = { ...(await idpKey()), kid: 'never-published' };
    expect(await exchange(await idToken({ email: 'x@example.com' }, { key: stranger }))).toBe(401);
    expect((await fetches()) - before).toBe(1);
  });

  it('counts its own fetches for the bench', async () => {
    const before = idpJwksFetchCount();
    expect(await exchange(await idToken({ email: 'count@example.com' }))).toBe(200);
    expect(idpJwksFetchCount() - before).toBe(1);
  });
});
