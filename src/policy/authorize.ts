/**
 * May this actor? Deny by default; a check names a permission, never a role (SPEC §1).
 *
 * - user: the permissions of the role in the token's organization; none without an organization.
 * - service: exactly its scopes (already capped at exchange by what the key's creator may do).
 * - agent: its scopes (a subset of what its user could do at the exchange; its tokens are revoked when
 *   the user is demoted or removed), and never what only a principal may do for itself (`NEVER_DELEGATED`).
 * - websocket: what its bound actor may do.
 * - a custom type: what its registration's `permissions` says (`actor/registry.ts`); nothing without one.
 * - guest, system: nothing here (the system actor has its own: `system-actions.ts`).
 */
import type { Actor, AgentActor, CustomActors, ServiceActor, UserActor } from '../actor/actor.ts';
import { isAgentActor, isServiceActor, isUserActor, isWebSocketActor } from '../actor/guards.ts';
import { customActorType } from '../actor/registry.ts';
import { isPermission, isRole, type Permission, permissionsOf } from './permissions.ts';

const NONE: ReadonlySet<Permission> = new Set();

/**
 * What a user can never hand to an agent (SPEC §1): creating API keys, managing members (and so further
 * delegations' sources), deleting the organization.
 */
export const NEVER_DELEGATED: ReadonlySet<Permission> = new Set([
  'api_keys:write',
  'members:read',
  'members:write',
  'members:grant_admin',
  'org:delete',
]);

/** A registered custom actor that carries an `organizationId`: it acts inside that organization. */
export type CustomTenantActor = Extract<CustomActors[keyof CustomActors], { readonly organizationId: string }>;

/** An actor that acts inside one organization: a user with an organization, a service, an agent or a custom one. */
export type TenantActor =
  | (UserActor & { readonly organizationId: string })
  | ServiceActor
  | AgentActor
  | CustomTenantActor;

/**
 * @example
 * permissionsOfActor(viewer).has('documents:read') // true
 */
export function permissionsOfActor(actor: Actor): ReadonlySet<Permission> {
  if (isWebSocketActor(actor)) return permissionsOfActor(actor.actor);
  if (isUserActor(actor)) return actor.organizationId !== null && actor.role ? permissionsOf(actor.role) : NONE;
  if (isServiceActor(actor)) return new Set(actor.scopes);
  if (isAgentActor(actor)) return new Set(actor.scopes.filter((p) => !NEVER_DELEGATED.has(p)));
  return customActorType(actor)?.permissions?.(actor) ?? NONE;
}

/**
 * @example
 * can(editor, 'documents:write') // true
 * can(viewer, 'documents:write') // false
 */
export function can(actor: Actor, permission: Permission): boolean {
  return permissionsOfActor(actor).has(permission);
}

/**
 * The actor as a tenant actor, or null when it acts in no organization (guest, system, org-less user).
 *
 * @example
 * const tenant = asTenantActor(ctx.actor) // null for a guest
 */
export function asTenantActor(actor: Actor): TenantActor | null {
  const inner = isWebSocketActor(actor) ? actor.actor : actor;
  if (isUserActor(inner) && inner.organizationId !== null) return inner as TenantActor;
  if (isServiceActor(inner) || isAgentActor(inner)) return inner;
  if (customActorType(inner) && typeof (inner as { organizationId?: unknown }).organizationId === 'string') {
    return inner as CustomTenantActor;
  }
  return null;
}

/**
 * Derived authority (SPEC §1): a credential's scopes capped by what the member it derives from may do
 * now — none when that member is gone or has no valid role. The one rule for a key's tokens, its jobs
 * and anything else derived from a grant.
 *
 * @example
 * capToGrantor(['documents:write', 'members:write'], 'editor') // ['documents:write']
 */
export function capToGrantor(scopes: readonly string[], grantorRole: string | null | undefined): Permission[] {
  const allowed: ReadonlySet<Permission> = isRole(grantorRole) ? permissionsOf(grantorRole) : NONE;
  return scopes.filter(isPermission).filter((p) => allowed.has(p));
}
