/**
 * Type guards for the actor union. `isSystemActor` also checks the unforgeable brand that only
 * `systemActor()` sets, so a plain object `{ type: 'system' }` from untyped code is not a system actor.
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
 * Any built-in actor; custom types register their own guard with `registerActorGuard`.
 *
 * @example
 * isActor(untrustedValue)
 */
export function isActor(value: unknown): value is Actor {
  if (
    isUserActor(value) ||
    isServiceActor(value) ||
    isAgentActor(value) ||
    isGuestActor(value) ||
    isSystemActor(value) ||
    isWebSocketActor(value)
  ) {
    return true;
  }
  const type = (value as { type?: unknown } | null)?.type;
  const guard = typeof type === 'string' ? customGuards.get(type) : undefined;
  return guard ? guard(value) : false;
}

const customGuards = new Map<string, (value: unknown) => boolean>();

/**
 * Registers the guard of a custom actor type so `isActor` and `requireActor` accept it.
 *
 * @example
 * registerActorGuard('bot', isBotActor)
 */
export function registerActorGuard(type: string, guard: (value: unknown) => boolean): void {
  if (['user', 'service', 'agent', 'guest', 'system', 'websocket'].includes(type)) {
    throw new Error(`"${type}" is a built-in actor type`);
  }
  customGuards.set(type, guard);
}
