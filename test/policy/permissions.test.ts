/**
 * The role matrix (`src/policy/permissions.ts`) against SPEC §1's table, written out here as the SPEC
 * states it: a permission a role should have and lacks, or has and shouldn't, fails by name.
 */
import { describe, expect, it } from 'vitest';
import {
  isPermission,
  isRole,
  PERMISSIONS,
  type Permission,
  permissionsOf,
  ROLES,
  type Role,
} from '../../src/policy/permissions.ts';

/** SPEC §1, row by row: the least role that has each permission. */
const LEAST_ROLE: Record<Permission, Role> = {
  'documents:read': 'viewer',
  'rooms:join': 'viewer',
  'exports:create': 'viewer',
  'documents:write': 'editor',
  'rooms:publish': 'editor',
  'documents:delete': 'admin',
  'members:read': 'admin',
  'members:write': 'admin',
  'api_keys:write': 'admin',
  'audit:read': 'admin',
  'members:grant_admin': 'owner',
  'org:delete': 'owner',
};
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

describe('the role matrix (SPEC §1)', () => {
  it('names every permission of the SPEC, and the four roles in order', () => {
    expect([...PERMISSIONS].sort()).toEqual(Object.keys(LEAST_ROLE).sort());
    expect(ROLES).toEqual(['viewer', 'editor', 'admin', 'owner']);
  });

  for (const role of ['viewer', 'editor', 'admin', 'owner'] as const) {
    it(`gives ${role} exactly the permissions of its column`, () => {
      const expected = PERMISSIONS.filter((p) => RANK[LEAST_ROLE[p]] <= RANK[role]);
      expect([...permissionsOf(role)].sort()).toEqual([...expected].sort());
    });
  }

  it('spells the columns out: a viewer reads, an editor writes, an admin manages, an owner deletes', () => {
    expect([...permissionsOf('viewer')].sort()).toEqual(['documents:read', 'exports:create', 'rooms:join']);
    expect(permissionsOf('editor').has('documents:write')).toBe(true);
    expect(permissionsOf('editor').has('documents:delete')).toBe(false);
    expect(permissionsOf('admin').has('members:write')).toBe(true);
    expect(permissionsOf('admin').has('members:grant_admin')).toBe(false);
    expect(permissionsOf('admin').has('org:delete')).toBe(false);
    expect(permissionsOf('owner').size).toBe(PERMISSIONS.length);
  });

  it('knows roles and permissions by name only', () => {
    expect(isRole('editor')).toBe(true);
    for (const value of ['superuser', 'Editor', '', null, undefined, 3, ['owner']]) expect(isRole(value)).toBe(false);
    expect(isPermission('documents:read')).toBe(true);
    for (const value of ['documents:*', 'documents', '*', 'DOCUMENTS:READ', null, {}]) {
      expect(isPermission(value)).toBe(false);
    }
  });
});
