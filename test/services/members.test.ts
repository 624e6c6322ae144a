import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/actor/system.ts';
import { openDatabase } from '../../src/db/client.ts';
import { createDocument } from '../../src/services/documents.ts';
import { addMember } from '../../src/services/members.ts';
import { aUser, devToken } from '../support/actors.ts';
import { unique } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { createTenant, type Tenant } from '../support/tenants.ts';

interface Member {
  userId: string;
  email: string;
  role: string;
}

describe('members', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it("lists the organization's members with their roles", async () => {
    const { body } = await call('GET', '/v1/members', { token: t.tokens.admin });
    const members = (body as { members: Member[] }).members;
    expect(members.map((m) => [m.email, m.role]).sort()).toEqual(
      (['owner', 'admin', 'editor', 'viewer'] as const).map((r) => [t.emails[r], r]).sort(),
    );
  });

  it('refuses a duplicate member with 409', async () => {
    const response = await call('POST', '/v1/members', {
      token: t.tokens.owner,
      body: { email: t.emails.viewer, role: 'viewer' },
    });
    expect([response.status, errorCode(response.body)]).toEqual([409, 'CONFLICT']);
  });

  it('refuses to remove or demote the last owner', async () => {
    const removal = await call('DELETE', `/v1/members/${t.userIds.owner}`, { token: t.tokens.owner });
    expect([removal.status, errorCode(removal.body)]).toEqual([409, 'CONFLICT']);
    const demotion = await call('PATCH', `/v1/members/${t.userIds.owner}`, {
      token: t.tokens.owner,
      body: { role: 'admin' },
    });
    expect([demotion.status, errorCode(demotion.body)]).toEqual([409, 'CONFLICT']);
  });

  it('lets an owner hand over: promote another owner, then step down', async () => {
    const tenant = await createTenant();
    const promote = await call('PATCH', `/v1/members/${tenant.userIds.admin}`, {
      token: tenant.tokens.owner,
      body: { role: 'owner' },
    });
    expect(promote.status).toBe(200);
    const stepDown = await call('PATCH', `/v1/members/${tenant.userIds.owner}`, {
      token: tenant.tokens.owner,
      body: { role: 'viewer' },
    });
    expect(stepDown.status).toBe(200);
  });

  it('never leaves an organization without an owner, even when two owners demote each other at once', async () => {
    const tenant = await createTenant();
    await call('PATCH', `/v1/members/${tenant.userIds.admin}`, { token: tenant.tokens.owner, body: { role: 'owner' } });
    const secondOwner = await devToken(tenant.emails.admin, tenant.slug);
    const results = await Promise.all([
      call('PATCH', `/v1/members/${tenant.userIds.admin}`, { token: tenant.tokens.owner, body: { role: 'editor' } }),
      call('PATCH', `/v1/members/${tenant.userIds.owner}`, { token: secondOwner, body: { role: 'editor' } }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
  });

  it("revokes a removed member's tokens at once, and they can no longer read", async () => {
    const tenant = await createTenant();
    const editor = tenant.tokens.editor;
    expect((await call('GET', '/v1/documents', { token: editor })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the token's iat second passes
    expect((await call('DELETE', `/v1/members/${tenant.userIds.editor}`, { token: tenant.tokens.admin })).status).toBe(
      204,
    );
    const after = await call('GET', '/v1/documents', { token: editor });
    expect([after.status, errorCode(after.body)]).toEqual([401, 'TOKEN_REVOKED']);
  });

  it("revokes tokens on a role change, so a demoted member can't keep the old role's power", async () => {
    const tenant = await createTenant();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(
      (
        await call('PATCH', `/v1/members/${tenant.userIds.editor}`, {
          token: tenant.tokens.owner,
          body: { role: 'viewer' },
        })
      ).status,
    ).toBe(200);
    const old = await call('POST', '/v1/documents', { token: tenant.tokens.editor, body: { title: 'x' } });
    expect([old.status, errorCode(old.body)]).toEqual([401, 'TOKEN_REVOKED']);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await devToken(tenant.emails.editor, tenant.slug);
    expect((await call('GET', '/v1/me', { token: fresh })).body).toMatchObject({ actor: { role: 'viewer' } });
  });

  it("revokes a service's tokens when its API key is revoked", async () => {
    const tenant = await createTenant();
    expect((await call('GET', '/v1/documents', { token: tenant.tokens.service })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call('DELETE', `/v1/api-keys/${tenant.serviceKeyId}`, { token: tenant.tokens.admin })).status).toBe(
      204,
    );
    const after = await call('GET', '/v1/documents', { token: tenant.tokens.service });
    expect([after.status, errorCode(after.body)]).toEqual([401, 'TOKEN_REVOKED']);
  });

  it('finds an existing user by email when adding them to another organization', async () => {
    const other = await createTenant();
    const added = await call('POST', '/v1/members', {
      token: other.tokens.owner,
      body: { email: t.emails.viewer, role: 'editor' },
    });
    expect(added.status).toBe(201);
    expect((added.body as { member: Member }).member.userId).toBe(t.userIds.viewer);
    const orgs = await call('GET', '/v1/me/orgs', { token: await devToken(t.emails.viewer) });
    expect((orgs.body as { organizations: { id: string }[] }).organizations.map((o) => o.id).sort()).toEqual(
      [t.id, other.id].sort(),
    );
  });
});

describe('API keys', () => {
  it("shows the secret once and never again, and refuses scopes beyond the creator's", async () => {
    const t = await createTenant();
    const created = await call('POST', '/v1/api-keys', {
      token: t.tokens.admin,
      body: { name: 'ci', scopes: ['documents:read'] },
    });
    const secret = (created.body as { secret: string }).secret;
    expect(secret).toMatch(/^sgk_/);
    const list = await call('GET', '/v1/api-keys', { token: t.tokens.admin });
    expect(JSON.stringify(list.body)).not.toContain(secret);
    const excessive = await call('POST', '/v1/api-keys', {
      token: t.tokens.admin,
      body: { name: 'x', scopes: ['org:delete'] },
    });
    expect([excessive.status, errorCode(excessive.body)]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
    const unknown = await call('POST', '/v1/api-keys', {
      token: t.tokens.admin,
      body: { name: 'x', scopes: ['root'] },
    });
    expect([unknown.status, errorCode(unknown.body)]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('organizations', () => {
  it('makes the creator the owner, and refuses a duplicate slug with 409', async () => {
    const email = `${unique('founder')}@example.com`;
    const token = await devToken(email);
    const slug = unique('acme').toLowerCase().slice(0, 40);
    const created = await call('POST', '/v1/orgs', { token, body: { name: 'Acme', slug } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ organization: { name: 'Acme', slug }, role: 'owner' });
    const again = await call('POST', '/v1/orgs', { token, body: { name: 'Acme 2', slug } });
    expect([again.status, errorCode(again.body)]).toEqual([409, 'CONFLICT']);
    const owner = await devToken(email, slug);
    expect((await call('GET', '/v1/me', { token: owner })).body).toMatchObject({ actor: { role: 'owner' } });
  });

  it.each([
    ['an uppercase slug', { name: 'A', slug: 'NotOk' }],
    ['a short slug', { name: 'A', slug: 'ab' }],
    ['an unknown field', { name: 'A', slug: 'fine-slug', owner: 'me' }],
  ])('refuses %s', async (_name, body) => {
    const token = await devToken(`${unique('f')}@example.com`);
    const response = await call('POST', '/v1/orgs', { token, body });
    expect([response.status, errorCode(response.body)]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('services refuse calls without a proper actor', () => {
  const ctx = (actor: unknown) =>
    ({ actor, requestId: crypto.randomUUID(), env, db: openDatabase(env), waitUntil: () => {} }) as never;

  it('refuses a business action by the system actor', async () => {
    await expect(
      createDocument(ctx(systemActor('cron')), { title: 'x', body: '', visibility: 'private' }),
    ).rejects.toMatchObject({
      code: 'INSUFFICIENT_PERMISSIONS',
    });
    await expect(addMember(ctx(systemActor('cron')), { email: 'a@example.com', role: 'viewer' })).rejects.toMatchObject(
      {
        code: 'INSUFFICIENT_PERMISSIONS',
      },
    );
  });

  it('refuses a call from untyped code that passes no actor, or a forged one', async () => {
    await expect(createDocument(ctx(undefined), { title: 'x', body: '', visibility: 'private' })).rejects.toThrow(
      TypeError,
    );
    await expect(createDocument({} as never, { title: 'x', body: '', visibility: 'private' })).rejects.toThrow(
      TypeError,
    );
    await expect(
      createDocument(ctx({ type: 'system', reason: 'forged' }), { title: 'x', body: '', visibility: 'private' }),
    ).rejects.toThrow(TypeError);
  });

  it('accepts a well-formed actor (control)', async () => {
    // A user in an organization that does not exist: the action runs and RLS/foreign keys refuse the write.
    await expect(
      createDocument(ctx(aUser({ role: 'editor' })), { title: 'x', body: '', visibility: 'private' }),
    ).rejects.not.toThrow(TypeError);
  });
});
