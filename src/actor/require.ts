/**
 * `requireActor(ctx, { type, validators })`: the narrowed actor of the wanted type, or a typed error
 * (Flamigo's `RequireActorWithClaims[T]`). A guest where someone is needed gets
 * `AuthenticationRequired`; any other mismatch or failed validator gets `InsufficientPermissions`.
 */
import { AuthenticationRequired, InsufficientPermissions } from '../errors.ts';
import type { Actor, ActorType } from './actor.ts';
import { isActor, isSystemActor } from './guards.ts';

export type ActorOfType<T extends ActorType> = Extract<Actor, { type: T }>;

export interface RequireOptions<T extends ActorType> {
  type: T | readonly T[];
  /** Each returns true to accept the actor. */
  validators?: readonly ((actor: ActorOfType<T>) => boolean)[];
}

/**
 * @example
 * const user = requireActor(ctx, { type: 'user', validators: [(u) => u.organizationId !== null] })
 * user.sessionId // typed as a UserActor
 */
export function requireActor<T extends ActorType>(
  ctx: { readonly actor: Actor },
  options: RequireOptions<T>,
): ActorOfType<T> {
  const actor = ctx.actor;
  const types: readonly ActorType[] = Array.isArray(options.type) ? options.type : [options.type as T];
  // Untyped callers can hand in anything: only a real actor passes, and a system actor only with its brand.
  if (!isActor(actor)) throw new AuthenticationRequired();
  if (actor.type === 'system' && !isSystemActor(actor)) throw new AuthenticationRequired();
  if (!types.includes(actor.type)) {
    if (actor.type === 'guest') throw new AuthenticationRequired();
    throw new InsufficientPermissions();
  }
  const narrowed = actor as ActorOfType<T>;
  for (const validator of options.validators ?? []) {
    if (!validator(narrowed)) throw new InsufficientPermissions();
  }
  return narrowed;
}
