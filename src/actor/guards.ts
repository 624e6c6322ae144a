/**
 * Type guards for the actor union. `isSystemActor` also checks the unforgeable brand that only
 * `systemActor()` sets, so a plain object `{ type: 'system' }` from untyped code is not a system actor.
 * Custom types bring their own guard with their registration (`registry.ts`).
 */
import type {
  Actor,
  AgentActor,
  GuestActor,
  ServiceActor,
  SystemActor,
  TokenActor,
  UserActor,
  WebSocketActor,
} from './actor.ts';
import { customActorType } from './registry.ts';
import { hasSystemBrand } from './system.ts';

function hasType(value: unknown, type: string): boolean {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}

/**
 * @example
 * isUserActor(ctx.actor) && ctx.actor.organizationId
 */
export function isUserActor(value: unknown): value is UserActor {
  return hasType(value, 'user') && typeof (value as UserActor).id === 'string';
}

/**
 * @example
 * if (isServiceActor(actor)) actor.scopes
 */
export function isServiceActor(value: unknown): value is ServiceActor {
  return hasType(value, 'service') && typeof (value as ServiceActor).id === 'string';
}

/**
 * @example
 * if (isAgentActor(actor)) actor.onBehalfOf.id
 */
export function isAgentActor(value: unknown): value is AgentActor {
  return (
    hasType(value, 'agent') &&
    typeof (value as AgentActor).id === 'string' &&
    typeof (value as AgentActor).onBehalfOf?.id === 'string'
  );
}

/**
 * @example
 * isGuestActor({ type: 'guest', requestId: 'r1' }) // true
 */
export function isGuestActor(value: unknown): value is GuestActor {
  return hasType(value, 'guest');
}

/**
 * @example
 * isSystemActor(systemActor('cron')) // true
 * isSystemActor({ type: 'system', reason: 'forged' }) // false
 */
export function isSystemActor(value: unknown): value is SystemActor {
  return hasType(value, 'system') && hasSystemBrand(value);
}

/**
 * @example
 * if (isWebSocketActor(actor)) actor.connectionId
 */
export function isWebSocketActor(value: unknown): value is WebSocketActor {
  return hasType(value, 'websocket') && isTokenActor((value as WebSocketActor).actor);
}

/**
 * @example
 * isTokenActor(ctx.actor) // a user, a service or an agent
 */
export function isTokenActor(value: unknown): value is TokenActor {
  return isUserActor(value) || isServiceActor(value) || isAgentActor(value);
}

/**
 * Any actor: a built-in one, or one of a type registered with `registerActorType` that passes that
 * type's guard.
 *
 * @example
 * isActor(untrustedValue)
 */
export function isActor(value: unknown): value is Actor {
  return (
    isUserActor(value) ||
    isServiceActor(value) ||
    isAgentActor(value) ||
    isGuestActor(value) ||
    isSystemActor(value) ||
    isWebSocketActor(value) ||
    customActorType(value) !== undefined
  );
}
