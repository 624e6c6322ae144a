import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { TokenActor } from '../../src/actor/actor.ts';
import { resolveActorToken } from '../../src/actor/resolve.ts';
import { VerifiedTokenCache } from '../../src/actor/tokens/cache.ts';
import type { ActorKeys } from '../../src/actor/tokens/keys.ts';
import { keys, signedToken, userSubject } from '../support/actors.ts';

const never = { isRevoked: async () => false };
const noKeys: ActorKeys = { signing: undefined as never, verifying: new Map(), jwks: { keys: [] } };

describe('resolveActorToken and the verified-token cache', () => {
  it('serves a repeated token from the cache without verifying it again', async () => {
    const cache = new VerifiedTokenCache();
    const token = await signedToken(userSubject());
    const options = { issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE, revocations: never, cache };
    const first = await resolveActorToken(token, { ...options, keys: await keys() });
    // With no keys at all, only a cache hit can succeed.
    const second = await resolveActorToken(token, { ...options, keys: noKeys });
    expect(second).toBe(first);
  });

  it("never serves an entry past its token's expiry", async () => {
    const cache = new VerifiedTokenCache();
    const now = Math.floor(Date.now() / 1000);
    const token = await signedToken(userSubject(), { ttlSeconds: 60, now });
    const options = {
      issuer: env.ACTOR_ISSUER,
      audience: env.ACTOR_AUDIENCE,
      revocations: never,
      cache,
      keys: await keys(),
    };
    await resolveActorToken(token, { ...options, now });
    await expect(resolveActorToken(token, { ...options, now: now + 60 + 31 })).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    });
    expect(cache.size).toBe(0);
  });

  it('checks revocation on every use, cached or not', async () => {
    const cache = new VerifiedTokenCache();
    const token = await signedToken(userSubject());
    let revoked = false;
    const revocations = { isRevoked: async (_actor: TokenActor) => revoked };
    const options = { issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE, revocations, cache, keys: await keys() };
    await resolveActorToken(token, options);
    revoked = true;
    await expect(resolveActorToken(token, options)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
  });

  it('is bounded, dropping the least recently used entry', async () => {
    const cache = new VerifiedTokenCache(2);
    const options = {
      issuer: env.ACTOR_ISSUER,
      audience: env.ACTOR_AUDIENCE,
      revocations: never,
      cache,
      keys: await keys(),
    };
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => signedToken(userSubject())));
    await resolveActorToken(a!, options);
    await resolveActorToken(b!, options);
    await resolveActorToken(a!, options); // a is now the most recent
    await resolveActorToken(c!, options); // evicts b
    expect(cache.size).toBe(2);
    const now = Math.floor(Date.now() / 1000);
    expect(cache.get(a!, now)).toBeDefined();
    expect(cache.get(b!, now)).toBeUndefined();
  });
});
