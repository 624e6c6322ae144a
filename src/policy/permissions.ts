/**
 * The permission vocabulary and the role matrix of SPEC §1. Deny by default: a role has exactly the
 * permissions listed for it. Checks name a permission, never a role.
 */

import { isPermission, isRole, PERMISSIONS, type Permission, ROLES, type Role } from '../contract/permissions.ts';

export { isPermission, isRole, PERMISSIONS, type Permission, ROLES, type Role };

const VIEWER: readonly Permission[] = ['documents:read', 'rooms:join', 'exports:create'];
const EDITOR: readonly Permission[] = [...VIEWER, 'documents:write', 'rooms:publish'];
const ADMIN: readonly Permission[] = [
  ...EDITOR,
  'documents:delete',
  'members:read',
  'members:write',
  'api_keys:write',
  'audit:read',
];
const OWNER: readonly Permission[] = [...ADMIN, 'members:grant_admin', 'org:delete'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(VIEWER),
  editor: new Set(EDITOR),
  admin: new Set(ADMIN),
  owner: new Set(OWNER),
};

/**
 * @example
 * permissionsOf('viewer').has('documents:write') // false
 */
export function permissionsOf(role: Role): ReadonlySet<Permission> {
  return ROLE_PERMISSIONS[role];
}
