/**
 * The permission vocabulary of SPEC §1: roles and permissions by name, and their guards. Part of the
 * contract (the typed client and the OpenAPI document use it) and the words actor/ reads tokens with;
 * which role has which permission is policy's (`policy/permissions.ts`), not the contract's.
 */

export const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'documents:read',
  'documents:write',
  'documents:delete',
  'rooms:join',
  'rooms:publish',
  'exports:create',
  'members:read',
  'members:write',
  'members:grant_admin',
  'api_keys:write',
  'audit:read',
  'org:delete',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * @example
 * isRole('editor') // true
 * isRole('superuser') // false
 */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * @example
 * isPermission('documents:read') // true
 */
export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
