/**
 * `can` and `permissionsOfActor` for every built-in actor type (SPEC §1): a user by its role in its
 * organization, a service by exactly its scopes, an agent by its scopes less what is never delegated, a
 * socket by its bound actor, and nothing for a guest, the system actor or an org-less user. Deny by
 * default: only what is listed is allowed.
 */
import { describe, expect, it } from 'vitest';
import type { AgentActor } from '../../src/actor/actor.ts';
import { asTenantActor, can, capToGrantor, NEVER_DELEGATED, permissionsOfActor } from '../../src/policy/authorize.ts';
import { PERMISSIONS, type Permission } from '../../src/policy/permissions.ts';
import { aGuest, aService, aSystem, aUser, aWebSocket } from '../support/actors.ts';

function anAgent(scopes: Permission[]): AgentActor {
  const now = Math.floor(Date.now() / 1000);
  return {
    type: 'agent',
    id: crypto.randomUUID(),
    organizationId: crypto.randomUUID(),
    onBehalfOf: { type: 'user', id: crypto.randomUUID() },
    name: 'release notes bot',
    scopes,
    token: { jti: crypto.randomUUID(), issuedAt: now, expiresAt: now + 900 },
  };
}

describe('can: users, by the role in their organization', () => {
  it('lets each role do what its column allows and nothing more', () => {
    const viewer = aUser({ role: 'viewer' });
    expect(can(viewer, 'documents:read')).toBe(true);
    expect(can(viewer, 'rooms:join')).toBe(true);
    expect(can(viewer, 'exports:create')).toBe(true);
    expect(can(viewer, 'documents:write')).toBe(false);
    expect(can(viewer, 'rooms:publish')).toBe(false);

    const editor = aUser({ role: 'editor' });
    expect(can(editor, 'documents:write')).toBe(true);
    expect(can(editor, 'rooms:publish')).toBe(true);
    expect(can(editor, 'documents:delete')).toBe(false);
    expect(can(editor, 'members:read')).toBe(false);

    const admin = aUser({ role: 'admin' });
    for (const p of ['documents:delete', 'members:read', 'members:write', 'api_keys:write', 'audit:read'] as const) {
      expect(can(admin, p), p).toBe(true);
    }
    expect(can(admin, 'members:grant_admin')).toBe(false);
    expect(can(admin, 'org:delete')).toBe(false);

    const owner = aUser({ role: 'owner' });
    for (const p of PERMISSIONS) expect(can(owner, p), p).toBe(true);
  });

  it('gives a user without an organization, or without a role, nothing', () => {
    expect(permissionsOfActor(aUser({ organizationId: null, role: null })).size).toBe(0);
    expect(permissionsOfActor(aUser({ organizationId: null, role: 'owner' })).size).toBe(0);
    expect(permissionsOfActor(aUser({ role: null })).size).toBe(0);
  });
});

describe('can: services, agents and sockets', () => {
  it('gives a service exactly its scopes, whatever they are', () => {
    const service = aService({ scopes: ['documents:read', 'rooms:join'] });
    expect([...permissionsOfActor(service)].sort()).toEqual(['documents:read', 'rooms:join']);
    expect(can(service, 'documents:write')).toBe(false);
    expect(can(aService({ scopes: ['audit:read'] }), 'audit:read')).toBe(true);
  });

  it("gives an agent its scopes but never what only a principal may do, even when it's in the scope", () => {
    const agent = anAgent(['documents:read', 'documents:write', 'api_keys:write', 'members:write', 'org:delete']);
    expect([...permissionsOfActor(agent)].sort()).toEqual(['documents:read', 'documents:write']);
    for (const p of ['api_keys:write', 'members:read', 'members:write', 'members:grant_admin', 'org:delete'] as const) {
      expect(NEVER_DELEGATED.has(p), p).toBe(true);
      expect(can(anAgent([p]), p), p).toBe(false);
    }
  });

  it('gives a socket what its bound actor may do', () => {
    expect(can(aWebSocket(aUser({ role: 'editor' })), 'rooms:publish')).toBe(true);
    expect(can(aWebSocket(aUser({ role: 'viewer' })), 'rooms:publish')).toBe(false);
    expect(can(aWebSocket(aService({ scopes: ['rooms:join'] })), 'rooms:join')).toBe(true);
  });

  it('gives a guest and the system actor nothing here', () => {
    for (const actor of [aGuest(), aSystem('maintenance')]) {
      expect(permissionsOfActor(actor).size).toBe(0);
      for (const p of PERMISSIONS) expect(can(actor, p)).toBe(false);
    }
  });
});

describe('asTenantActor', () => {
  it('is the actor acting in an organization (the bound one for a socket), or null', () => {
    const user = aUser();
    expect(asTenantActor(user)).toBe(user);
    const service = aService();
    expect(asTenantActor(aWebSocket(service))).toBe(service);
    const agent = anAgent(['documents:read']);
    expect(asTenantActor(agent)).toBe(agent);
    expect(asTenantActor(aUser({ organizationId: null }))).toBeNull();
    expect(asTenantActor(aGuest())).toBeNull();
    expect(asTenantActor(aSystem())).toBeNull();
  });
});

describe('capToGrantor (derived authority)', () => {
  it("caps a credential's scopes to what its grantor's role may do now", () => {
    expect(capToGrantor(['documents:write', 'members:write'], 'editor')).toEqual(['documents:write']);
    expect(capToGrantor(['documents:write', 'members:write'], 'admin')).toEqual(['documents:write', 'members:write']);
    expect(capToGrantor(['documents:read'], 'viewer')).toEqual(['documents:read']);
  });

  it('leaves nothing when the grantor is gone or has no valid role, and drops unknown scopes', () => {
    expect(capToGrantor(['documents:read'], null)).toEqual([]);
    expect(capToGrantor(['documents:read'], undefined)).toEqual([]);
    expect(capToGrantor(['documents:read'], 'superuser')).toEqual([]);
    expect(capToGrantor(['documents:*', 'documents:read'], 'owner')).toEqual(['documents:read']);
  });
});
