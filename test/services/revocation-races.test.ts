/**
 * Revocation races (issue 13 item 2), each forced rather than hoped for:
 * (a) an exchange that read the old membership (or key) signs *after* the change committed;
 * (b) a revocation-list refresh already in flight when this isolate notes a revocation lands after it;
 * (c) the verified-token cache and the verifier agree at exactly `exp + 30 s`.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { TokenActor } from '../../src/actor/actor.ts';
import { VerifiedTokenCache } from '../../src/actor/tokens/cache.ts';
import { verifyActorToken } from '../../src/actor/tokens/verify.ts';
import type { Context } from '../../src/context.ts';
import { openDatabase } from '../../src/db/client.ts';
import { isRevokedBy, RevocationCache, type RevokedSubjects } from '../../src/identity/revocations.ts';
import { readApiKeyAuthority, readUserAuthority, signAuthority } from '../../src/services/auth/exchange-token.ts';
import { aGuest, aService, aUser, keys, signedToken, userSubject } from '../support/actors.ts';
import { call, errorCode } from '../support/http.ts';
import { createTenant } from '../support/tenants.ts';

function exchangeContext(): Context {
  return { actor: aGuest(), requestId: crypto.randomUUID(), env, db: openDatabase(env), waitUntil: () => {} };
}

/** Waits for the Worker's clock to enter a new second, so that a Worker-clock revocation would be dated before the signature. */
async function nextSecond(): Promise<void> {
  const second = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === second) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('(a) an exchange that read the old authority, signed after the change', () => {
  it.each([
    [
      'removed',
      (t: Awaited<ReturnType<typeof createTenant>>) =>
        call('DELETE', `/v1/members/${t.userIds.editor}`, { token: t.tokens.owner }),
    ],
    [
      'demoted',
      (t: Awaited<ReturnType<typeof createTenant>>) =>
        call('PATCH', `/v1/members/${t.userIds.editor}`, { token: t.tokens.owner, body: { role: 'viewer' } }),
    ],
  ])('yields a revoked token for a member %s between the read and the signature', async (_name, change) => {
    const t = await createTenant();
    const ctx = exchangeContext();
    const authority = await readUserAuthority(ctx, t.userIds.editor, t.slug);
    expect(authority.subject).toMatchObject({ org: t.id, role: 'editor' });
    await nextSecond();
    expect([200, 204]).toContain((await change(t)).status);
    await nextSecond();
    const { access_token } = await signAuthority(ctx, authority, undefined);
    const response = await call('GET', '/v1/documents', { token: access_token });
    expect([response.status, errorCode(response.body)]).toEqual([401, 'TOKEN_REVOKED']);
    // A fresh exchange after the change reads the new state and passes, even within the same millisecond.
    if (_name === 'demoted') {
      const fresh = await signAuthority(ctx, await readUserAuthority(ctx, t.userIds.editor, t.slug), undefined);
      expect(fresh.actor).toMatchObject({ role: 'viewer' });
      expect((await call('GET', '/v1/documents', { token: fresh.access_token })).status).toBe(200);
    }
  });

  it("yields a revoked service token when the key's creator is removed between the read and the signature", async () => {
    const t = await createTenant();
    const created = await call('POST', '/v1/api-keys', {
      token: t.tokens.admin,
      body: { name: 'race', scopes: ['documents:read'] },
    });
    const secret = (created.body as { secret: string }).secret;
    const ctx = exchangeContext();
    const authority = await readApiKeyAuthority(ctx, secret);
    await nextSecond();
    expect((await call('DELETE', `/v1/members/${t.userIds.admin}`, { token: t.tokens.owner })).status).toBe(204);
    await nextSecond();
    const { access_token } = await signAuthority(ctx, authority, undefined);
    const response = await call('GET', '/v1/documents', { token: access_token });
    expect([response.status, errorCode(response.body)]).toEqual([401, 'TOKEN_REVOKED']);
  });

  it('yields a revoked service token when the key is revoked between the read and the signature', async () => {
    const t = await createTenant();
    const created = await call('POST', '/v1/api-keys', {
      token: t.tokens.owner,
      body: { name: 'race', scopes: ['documents:read'] },
    });
    const { secret, apiKey } = created.body as { secret: string; apiKey: { id: string } };
    const ctx = exchangeContext();
    const authority = await readApiKeyAuthority(ctx, secret);
    await nextSecond();
    expect((await call('DELETE', `/v1/api-keys/${apiKey.id}`, { token: t.tokens.owner })).status).toBe(204);
    await nextSecond();
    const { access_token } = await signAuthority(ctx, authority, undefined);
    const response = await call('GET', '/v1/documents', { token: access_token });
    expect([response.status, errorCode(response.body)]).toEqual([401, 'TOKEN_REVOKED']);
  });
});

describe('(b) a refresh in flight when this isolate notes a revocation', () => {
  const org = crypto.randomUUID();
  const user = (issuedAtMs: number): TokenActor =>
    aUser({
      organizationId: org,
      token: { jti: 'j', issuedAt: issuedAtMs / 1000, expiresAt: issuedAtMs / 1000 + 600 },
    });

  it('keeps the noted revocation when the older refresh lands after it', async () => {
    let clock = 1_000_000;
    const cache = new RevocationCache({ now: () => clock });
    const token = user(5_000);
    let land!: (rows: RevokedSubjects) => void;
    // The refresh starts (its read is of the state before the revocation) …
    const inFlight = cache.subjects(org, () => new Promise((resolve) => (land = resolve)));
    // … the revocation commits here and is noted …
    clock += 5;
    cache.note(org, 'user', token.id, 6_000);
    // … and then the refresh lands with rows that don't have it.
    land(new Map());
    expect(isRevokedBy(token, await inFlight)).toBe(true);
    expect(isRevokedBy(token, await cache.subjects(org, () => Promise.reject(new Error('no refresh expected'))))).toBe(
      true,
    );
    // A refresh that began after the note has read the row itself; the note may go, the revocation stays.
    clock += 31_000;
    const later = await cache.subjects(org, async () => new Map([[`user:${token.id}`, 6_000]]));
    expect(isRevokedBy(token, later)).toBe(true);
  });

  it('keeps a revocation noted while no list was cached yet', async () => {
    const cache = new RevocationCache();
    const token = user(5_000);
    cache.note(org, 'user', token.id, 6_000);
    expect(isRevokedBy(token, await cache.subjects(org, async () => new Map()))).toBe(true);
  });

  it('revokes a service token through any link of its chain', () => {
    const service = aService({ organizationId: org, token: { jti: 'j', issuedAt: 5, expiresAt: 600 } });
    expect(isRevokedBy(service, new Map([[`user:${service.grantor}`, 5_000]]))).toBe(true);
    expect(isRevokedBy(service, new Map([[`service:${service.id}`, 5_000]]))).toBe(true);
    expect(isRevokedBy(service, new Map([[`user:${service.grantor}`, 4_999]]))).toBe(false);
  });

  it('stays bounded: the least recently used organization goes first', async () => {
    const cache = new RevocationCache({ capacity: 3 });
    for (let i = 0; i < 10; i++) await cache.subjects(`org-${i}`, async () => new Map());
    expect(cache.size).toBe(3);
  });
});

describe('(c) the token cache and the verifier agree at the expiry boundary', () => {
  it.each([29, 30, 31])('at exp + %i s', async (late) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signedToken(userSubject(), { ttlSeconds: 60, now: now - 60 - late });
    const exp = now - late;
    const options = { issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE };
    const verified = await verifyActorToken(token, await keys(), { ...options, now: exp + late }).then(
      () => true,
      () => false,
    );
    const cache = new VerifiedTokenCache();
    cache.set(token, await verifyActorToken(token, await keys(), { ...options, now: exp - 1 }));
    expect(cache.get(token, exp + late) !== undefined).toBe(verified);
    expect(verified).toBe(late < 30);
  });
});
