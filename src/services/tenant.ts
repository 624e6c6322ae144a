/**
 * The tenant context: an actor acting in its organization. `tenantContext` resolves the tenant from the
 * actor's token — never from the path or the body — so a guest gets `AUTHENTICATION_REQUIRED` and an
 * actor in no organization (org-less user, system) gets `INSUFFICIENT_PERMISSIONS`, and gives the
 * operation a session scope that confines every statement to the tenant by row-level security.
 *
 * How an action is declared and run on it (permission, refusals, audit, hooks) is `action.ts`.
 */
import { type Actor, onBehalfOfActor, principalOf } from '../actor/actor.ts';
import { isActor, isGuestActor } from '../actor/guards.ts';
import type { Context } from '../context.ts';
import { type SessionScope, tenantScope } from '../db/scopes.ts';
import { AuthenticationRequired, InsufficientPermissions } from '../errors.ts';
import { asTenantActor, type TenantActor } from '../policy/authorize.ts';
import type { Permission } from '../policy/permissions.ts';

/** What an action is declared as (`defineAction`): the identity its audit events and log lines carry. */
export interface ActionIdentity {
  /** The audit action, e.g. `documents.update`. */
  readonly name: string;
  /**
   * The permission the action needs; `null` for what any actor of the organization may ask for itself
   * (its own delegations), which the action's own rules then narrow.
   */
  readonly permission: Permission | null;
  /** The audit resource type, e.g. `document`. */
  readonly resource: string;
}

export interface TenantContext extends Context<TenantActor> {
  readonly organizationId: string;
  readonly scope: SessionScope;
  /** The audit trail's `actor` for this operation. */
  readonly principal: { readonly type: string; readonly id: string };
  /** Whom the principal acts for: an agent's delegating user; null otherwise (audit `onBehalfOf`). */
  readonly onBehalfOf: { readonly type: 'user'; readonly id: string } | null;
  /** The action running on this context: its events are audited as its `name` and `resource`. */
  readonly action: ActionIdentity;
}

/** The context of an actor acting in its organization, running `action`; throws for anyone else. */
export function tenantContext(ctx: Context, action: ActionIdentity): TenantContext {
  assertHasActor(ctx);
  const actor = asTenantActor(ctx.actor);
  if (!actor) {
    if (isGuestActor(ctx.actor)) throw new AuthenticationRequired();
    throw new InsufficientPermissions();
  }
  const organizationId = actor.organizationId;
  return {
    ...ctx,
    actor,
    organizationId,
    principal: principalOf(actor),
    onBehalfOf: onBehalfOfActor(actor),
    scope: tenantScope({ type: actor.type, id: actor.id, organizationId }),
    action,
  };
}

/** The runtime half of "services can't run without an actor": a call from untyped code without one fails. */
export function assertHasActor(ctx: unknown): asserts ctx is Context<Actor> {
  const actor = (ctx as { actor?: unknown } | null | undefined)?.actor;
  if (!isActor(actor)) throw new TypeError('a service was called without an actor');
}
