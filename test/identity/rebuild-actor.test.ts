/**
 * `rebuildActor`: an actor reference becomes the actor it stands for *now* — current role, current key
 * and creator — or is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isServiceActor, isUserActor } from '../../src/actor/guards.ts';
import { REBUILT_LIFETIME_SECONDS, rebuildActor } from '../../src/identity/rebuild-actor.ts';
import { can } from '../../src/policy/authorize.ts';
import { database } from '../support/database.ts';
import { call } from '../support/http.ts';
import { createTenant, type Tenant } from '../support/tenants.ts';

describe('rebuildActor', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('rebuilds a user with their current role and synthetic, short-lived token facts', async () => {
    const ref = { type: 'user', id: t.userIds.editor, organizationId: t.id } as const;
    const actor = await rebuildActor(database(), ref, { jti: 'job-1', now: 1_000 });
    expect(isUserActor(actor)).toBe(true);
    expect(actor).toMatchObject({
      type: 'user',
      id: t.userIds.editor,
      organizationId: t.id,
      role: 'editor',
      token: { jti: 'job-1', issuedAt: 1_000, expiresAt: 1_000 + REBUILT_LIFETIME_SECONDS },
    });
  });

  it('sees a role change made after the reference was taken', async () => {
    const org = await createTenant();
    const ref = { type: 'user', id: org.userIds.admin, organizationId: org.id } as const;
    expect(can(await rebuildActor(database(), ref), 'members:read')).toBe(true);
    await call('PATCH', `/v1/members/${org.userIds.admin}`, { token: org.tokens.owner, body: { role: 'viewer' } });
    const demoted = await rebuildActor(database(), ref);
    expect(demoted).toMatchObject({ role: 'viewer' });
    expect(can(demoted, 'members:read')).toBe(false);
  });

  it('refuses a removed member, a stranger, and a member of another organization', async () => {
    const org = await createTenant();
    await call('DELETE', `/v1/members/${org.userIds.viewer}`, { token: org.tokens.owner });
    const refs = [
      { type: 'user', id: org.userIds.viewer, organizationId: org.id },
      { type: 'user', id: crypto.randomUUID(), organizationId: org.id },
      { type: 'user', id: t.userIds.owner, organizationId: org.id },
    ] as const;
    for (const ref of refs) {
      await expect(rebuildActor(database(), ref)).rejects.toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
    }
  });

  it("rebuilds a service with its key's scopes, capped by what the key's creator may do now", async () => {
    const org = await createTenant();
    const created = await call('POST', '/v1/api-keys', {
      token: org.tokens.admin,
      body: { name: 'ops', scopes: ['documents:read', 'members:read'] },
    });
    const keyId = (created.body as { apiKey: { id: string } }).apiKey.id;
    const ref = { type: 'service', id: keyId, organizationId: org.id } as const;
    const actor = await rebuildActor(database(), ref);
    expect(isServiceActor(actor)).toBe(true);
    expect(actor).toMatchObject({ type: 'service', id: keyId, organizationId: org.id });
    expect(isServiceActor(actor) && [...actor.scopes].sort()).toEqual(['documents:read', 'members:read']);

    await call('PATCH', `/v1/members/${org.userIds.admin}`, { token: org.tokens.owner, body: { role: 'editor' } });
    const capped = await rebuildActor(database(), ref);
    expect(isServiceActor(capped) && capped.scopes).toEqual(['documents:read']);
  });

  it('refuses a revoked key, an unknown key, and a key of another organization', async () => {
    const org = await createTenant();
    await call('DELETE', `/v1/api-keys/${org.serviceKeyId}`, { token: org.tokens.owner });
    const refs = [
      { type: 'service', id: org.serviceKeyId, organizationId: org.id },
      { type: 'service', id: crypto.randomUUID(), organizationId: org.id },
      { type: 'service', id: t.serviceKeyId, organizationId: org.id },
    ] as const;
    for (const ref of refs) {
      await expect(rebuildActor(database(), ref)).rejects.toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
    }
  });

  it('rebuilds an agent from its delegation, capped by what its user may do now; an ended one is refused', async () => {
    const org = await createTenant();
    const exchanged = await call('POST', '/v1/auth/token', {
      body: {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: org.tokens.editor,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope: 'documents:read documents:write',
        agent: { name: 'exporter' },
      },
    });
    const id = (exchanged.body as { delegation_id: string }).delegation_id;
    const ref = { type: 'agent', id, organizationId: org.id } as const;
    expect(await rebuildActor(database(), ref)).toMatchObject({
      type: 'agent',
      onBehalfOf: { type: 'user', id: org.userIds.editor },
      name: 'exporter',
      scopes: ['documents:read', 'documents:write'],
    });
    await call('PATCH', `/v1/members/${org.userIds.editor}`, { token: org.tokens.owner, body: { role: 'viewer' } });
    expect(await rebuildActor(database(), ref)).toMatchObject({ scopes: ['documents:read'] });
    const viewer = await call('POST', '/v1/auth/token', {
      body: { grant_type: 'dev', email: org.emails.editor, organization: org.slug },
    });
    const token = (viewer.body as { access_token: string }).access_token;
    expect((await call('DELETE', `/v1/delegations/${id}`, { token })).status).toBe(204);
    await expect(rebuildActor(database(), ref)).rejects.toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
  });
});
