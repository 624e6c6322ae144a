/**
 * Derived authority (SPEC §1; issue 13 item 1): a token never does more than every link of its chain
 * of grants may do *now*. A service token derives from its API key and the member who created it:
 * removing or demoting that member revokes the key's tokens (at once in this isolate) and closes the
 * key's sockets with 4003; a new exchange is capped by the member's new role.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { resolveBearer } from '../../src/identity/resolve-bearer.ts';
import { permissionsOfActor } from '../../src/policy/authorize.ts';
import { type Permission, permissionsOf, type Role } from '../../src/policy/permissions.ts';
import { call, errorCode } from '../support/http.ts';
import { connected } from '../support/sockets.ts';
import { createDoc, createTenant } from '../support/tenants.ts';
import { withTimeout } from '../support/timeout.ts';

async function createKey(token: string, scopes: Permission[]): Promise<{ id: string; secret: string }> {
  const { status, body } = await call('POST', '/v1/api-keys', { token, body: { name: 'derived', scopes } });
  if (status !== 201) throw new Error(`key creation: ${status} ${JSON.stringify(body)}`);
  const created = body as { apiKey: { id: string }; secret: string };
  return { id: created.apiKey.id, secret: created.secret };
}

async function exchangeKey(secret: string): Promise<{ status: number; token?: string; scopes?: string[] }> {
  const { status, body } = await call('POST', '/v1/auth/token', { body: { grant_type: 'api_key', api_key: secret } });
  const token = body as { access_token?: string; actor?: { scopes?: string[] } };
  return { status, token: token.access_token, scopes: token.actor?.scopes };
}

describe('derived authority: a service token follows its key creator', () => {
  it('a removed admin keeps no admin power through their key: tokens revoked, sockets closed, no new scopes', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const key = await createKey(t.tokens.admin, ['members:read', 'members:write', 'rooms:join']);
    const service = await exchangeKey(key.secret);
    expect((await call('GET', '/v1/members', { token: service.token })).status).toBe(200);
    const socket = await connected(doc.id, service.token!);

    expect((await call('DELETE', `/v1/members/${t.userIds.admin}`, { token: t.tokens.owner })).status).toBe(204);

    // At once in the isolate that made the change: the lasting foothold is gone.
    for (const [method, path, body] of [
      ['GET', '/v1/members', undefined],
      ['POST', '/v1/members', { email: 'foothold@example.com', role: 'editor' }],
    ] as const) {
      const response = await call(method, path, { token: service.token, body });
      expect([response.status, errorCode(response.body)]).toEqual([401, 'TOKEN_REVOKED']);
    }
    expect((await withTimeout(socket.closed, 2000, 'revocation close')).code).toBe(4003);
    // The key itself still exchanges, but for nothing: its creator may do nothing here now.
    const again = await exchangeKey(key.secret);
    expect(again.status).toBe(200);
    expect(again.scopes).toEqual([]);
    expect((await call('GET', '/v1/members', { token: again.token })).status).toBe(403);
  });

  it('a demoted admin narrows their key: old tokens revoked, a new exchange capped by the new role', async () => {
    const t = await createTenant();
    const key = await createKey(t.tokens.admin, ['documents:read', 'documents:write', 'members:write']);
    const before = await exchangeKey(key.secret);
    expect(before.scopes).toEqual(['documents:read', 'documents:write', 'members:write']);

    const demoted = await call('PATCH', `/v1/members/${t.userIds.admin}`, {
      token: t.tokens.owner,
      body: { role: 'viewer' },
    });
    expect(demoted.status).toBe(200);

    const old = await call('GET', '/v1/documents', { token: before.token });
    expect([old.status, errorCode(old.body)]).toEqual([401, 'TOKEN_REVOKED']);
    const after = await exchangeKey(key.secret);
    expect(after.scopes).toEqual(['documents:read']);
    expect((await call('GET', '/v1/documents', { token: after.token })).status).toBe(200);
    const write = await call('POST', '/v1/documents', { token: after.token, body: { title: 'no' } });
    expect(write.status).toBe(403);
  });
});

/**
 * The property: random sequences of role changes, removals, re-additions, key creations, exchanges and
 * revocations; after every step, no live token's effective permissions exceed what its chain may do now.
 */
describe('derived authority, as a property', () => {
  type Member = 'admin' | 'editor' | 'viewer';
  const members: Member[] = ['admin', 'editor', 'viewer'];
  const roles: Role[] = ['viewer', 'editor', 'admin'];
  type Step =
    | { kind: 'role'; who: Member; role: Role }
    | { kind: 'remove'; who: Member }
    | { kind: 'readd'; who: Member; role: Role }
    | { kind: 'key'; who: Member }
    | { kind: 'revoke'; key: number }
    | { kind: 'exchange'; key: number }
    | { kind: 'sign-in'; who: Member };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('role' as const),
      who: fc.constantFrom(...members),
      role: fc.constantFrom(...roles),
    }),
    fc.record({ kind: fc.constant('remove' as const), who: fc.constantFrom(...members) }),
    fc.record({
      kind: fc.constant('readd' as const),
      who: fc.constantFrom(...members),
      role: fc.constantFrom(...roles),
    }),
    fc.record({ kind: fc.constant('key' as const), who: fc.constantFrom(...members) }),
    fc.record({ kind: fc.constant('revoke' as const), key: fc.nat(4) }),
    fc.record({ kind: fc.constant('exchange' as const), key: fc.nat(4) }),
    fc.record({ kind: fc.constant('sign-in' as const), who: fc.constantFrom(...members) }),
  );

  it('no live token ever does more than its chain may do now', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 10 }), async (steps) => {
        const t = await createTenant();
        const db = () => openDatabase(env);
        // The model: what each member is now, and each key's creator and revocation.
        const role: Record<Member, Role | null> = { admin: 'admin', editor: 'editor', viewer: 'viewer' };
        const keys: { id: string; secret: string; creator: Member; scopes: Permission[]; revoked: boolean }[] = [];
        const live: { token: string; chain: { key?: number; member: Member } }[] = [];
        const emailOf = (who: Member) => t.emails[who];
        const signInToken = async (who: Member) => {
          const r = await call('POST', '/v1/auth/token', {
            body: { grant_type: 'dev', email: emailOf(who), organization: t.slug },
          });
          return r.status === 200 ? (r.body as { access_token: string }).access_token : undefined;
        };
        // Every member signs in once at the start; their tokens are live from then on.
        for (const who of members) {
          const token = await signInToken(who);
          if (token) live.push({ token, chain: { member: who } });
        }
        for (const s of steps) {
          switch (s.kind) {
            case 'role':
              if (role[s.who] !== null && role[s.who] !== s.role) {
                const r = await call('PATCH', `/v1/members/${t.userIds[s.who]}`, {
                  token: t.tokens.owner,
                  body: { role: s.role },
                });
                if (r.status === 200) role[s.who] = s.role;
              }
              break;
            case 'remove':
              if (role[s.who] !== null) {
                const r = await call('DELETE', `/v1/members/${t.userIds[s.who]}`, { token: t.tokens.owner });
                if (r.status === 204) role[s.who] = null;
              }
              break;
            case 'readd':
              if (role[s.who] === null) {
                const r = await call('POST', '/v1/members', {
                  token: t.tokens.owner,
                  body: { email: emailOf(s.who), role: s.role },
                });
                if (r.status === 201) role[s.who] = s.role;
              }
              break;
            case 'key': {
              const current = role[s.who];
              if (current === null) break;
              const token = await signInToken(s.who);
              if (!token) break;
              // A key with everything its creator may grant now (only admins may create keys at all).
              const scopes = [...permissionsOf(current)];
              const r = await call('POST', '/v1/api-keys', { token, body: { name: 'p', scopes } });
              if (r.status === 201) {
                const created = r.body as { apiKey: { id: string }; secret: string };
                keys.push({ id: created.apiKey.id, secret: created.secret, creator: s.who, scopes, revoked: false });
              }
              break;
            }
            case 'revoke': {
              const key = keys[s.key % Math.max(keys.length, 1)];
              if (!key || key.revoked) break;
              const r = await call('DELETE', `/v1/api-keys/${key.id}`, { token: t.tokens.owner });
              if (r.status === 204) key.revoked = true;
              break;
            }
            case 'exchange': {
              const index = s.key % Math.max(keys.length, 1);
              const key = keys[index];
              if (!key) break;
              const exchanged = await exchangeKey(key.secret);
              if (exchanged.token) live.push({ token: exchanged.token, chain: { key: index, member: key.creator } });
              break;
            }
            case 'sign-in': {
              const token = await signInToken(s.who);
              if (token) live.push({ token, chain: { member: s.who } });
              break;
            }
          }
          // After each step: effective permissions ⊆ what the chain may do now.
          for (const { token, chain } of live) {
            let effective: ReadonlySet<Permission> = new Set();
            try {
              effective = permissionsOfActor(await resolveBearer(token, env, db));
            } catch {
              // refused (revoked): it can do nothing
            }
            const member = role[chain.member];
            let allowed: ReadonlySet<Permission> = member ? permissionsOf(member) : new Set();
            if (chain.key !== undefined) {
              const key = keys[chain.key]!;
              allowed = key.revoked ? new Set() : new Set(key.scopes.filter((p) => allowed.has(p)));
            }
            const excess = [...effective].filter((p) => !allowed.has(p));
            expect(excess, `a token of ${JSON.stringify(chain)} after ${JSON.stringify(s)}`).toEqual([]);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
