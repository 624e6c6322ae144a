/**
 * The actor model (SPEC §1): who performs an operation. A discriminated union on `type`, open to custom
 * types by declaration merging into `CustomActors` plus one `registerActorType` call (`registry.ts`;
 * see the README, "Adding an actor type").
 *
 * This module knows nothing of HTTP, rooms or the database. Actors are immutable values; the only ways
 * to obtain one are verifying a token (`tokens/verify.ts`), being a guest, or — in code only — the
 * system actor (`system.ts`).
 */
import type { Permission, Role } from '../contract/permissions.ts';
import { customActorType } from './registry.ts';

/** What a verified token proved, kept on the actor for expiry and revocation checks. */
export interface TokenFacts {
  readonly jti: string;
  /** Seconds since the epoch; may carry milliseconds (an exchange dates a token by its read). */
  readonly issuedAt: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export interface UserActor {
  readonly type: 'user';
  readonly id: string;
  /** Absent for an org-less user token (only `/v1/me*` and `POST /v1/orgs`). */
  readonly organizationId: string | null;
  readonly role: Role | null;
  readonly sessionId: string;
  readonly token: TokenFacts;
}

export interface ServiceActor {
  readonly type: 'service';
  /** The API key's id. */
  readonly id: string;
  readonly organizationId: string;
  readonly scopes: readonly Permission[];
  /** The member who created the key: the next link of the service's chain of grants (`grantor` claim). */
  readonly grantor: string;
  readonly token: TokenFacts;
}

/**
 * An agent acting for a user (SPEC §1): minted by token exchange (RFC 8693) from the user's own token.
 * It may do its scopes, and only while its user may do them too; it never creates API keys, members or
 * further delegations and never deletes the organization.
 */
export interface AgentActor {
  readonly type: 'agent';
  /** The delegation's id. */
  readonly id: string;
  readonly organizationId: string;
  /** The delegating user (the token's `sub`): the next link of the agent's chain of grants. */
  readonly onBehalfOf: { readonly type: 'user'; readonly id: string };
  /** The agent's name, as the user gave it (`act.name`). */
  readonly name: string;
  readonly scopes: readonly Permission[];
  readonly token: TokenFacts;
}

export interface GuestActor {
  readonly type: 'guest';
  readonly requestId: string;
}

export interface SystemActor {
  readonly type: 'system';
  readonly reason: string;
}

/** A user, service or agent actor bound to one live connection in a room. */
export interface WebSocketActor {
  readonly type: 'websocket';
  readonly actor: TokenActor;
  readonly connectionId: string;
  readonly roomId: string;
  /** Seconds since the epoch: the bound token's expiry, extended by `reauth`. */
  readonly expiresAt: number;
}

/**
 * Custom actor types register here by declaration merging, keyed by their `type`:
 *
 * ```ts
 * declare module '../actor/actor.ts' {
 *   interface CustomActors { bot: BotActor }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: an extension point filled by declaration merging
export interface CustomActors {}

export type BuiltInActor = UserActor | ServiceActor | AgentActor | GuestActor | SystemActor | WebSocketActor;
export type Actor = BuiltInActor | CustomActors[keyof CustomActors];
export type ActorType = Actor['type'];

/** The actor a token-bearing operation runs as: a user, a service or an agent. */
export type TokenActor = UserActor | ServiceActor | AgentActor;

/** A reference that can be stored or enqueued and rebuilt later (never a serialized actor or token). */
export interface ActorRef {
  readonly type: 'user' | 'service' | 'agent';
  readonly id: string;
  readonly organizationId: string;
}

/**
 * One link of a chain of grants (SPEC §1 "Derived authority"): a principal whose authority a token
 * derives from. Whatever removes or reduces a link revokes every token whose chain holds it.
 */
export interface GrantLink {
  readonly type: 'user' | 'service' | 'agent';
  readonly id: string;
}

/**
 * A token actor's chain of grants, itself first: a user's is the user; a service's is its API key,
 * then the member who created the key; an agent's is its delegation, then the delegating user.
 * Revocation and room closing walk this one list, so a new kind of derived credential adds a link
 * here, not a special case elsewhere.
 *
 * @example
 * chainOf(serviceActor) // [{ type: 'service', id: keyId }, { type: 'user', id: creatorId }]
 */
export function chainOf(actor: TokenActor): readonly GrantLink[] {
  switch (actor.type) {
    case 'user':
      return [{ type: 'user', id: actor.id }];
    case 'service':
      return [
        { type: 'service', id: actor.id },
        { type: 'user', id: actor.grantor },
      ];
    case 'agent':
      return [
        { type: 'agent', id: actor.id },
        { type: 'user', id: actor.onBehalfOf.id },
      ];
  }
}

/**
 * Whom an actor acts for, when it is not acting for itself: an agent's user (audit `onBehalfOf`).
 *
 * @example
 * onBehalfOfActor(agent) // { type: 'user', id: agent.onBehalfOf.id }
 */
export function onBehalfOfActor(actor: Actor): { type: 'user'; id: string } | null {
  const builtIn = actor as BuiltInActor;
  if (builtIn.type === 'websocket') return onBehalfOfActor(builtIn.actor);
  return builtIn.type === 'agent' ? { type: 'user', id: builtIn.onBehalfOf.id } : null;
}

/**
 * The principal behind an actor, for audit records and log lines: `{ type, id }` — a custom type's
 * own `principal` (its registration), a websocket's bound actor.
 *
 * @example
 * principalOf(guest) // { type: 'guest', id: requestId }
 */
export function principalOf(actor: Actor): { type: string; id: string } {
  const custom = customActorType(actor);
  if (custom) return custom.principal(actor);
  const builtIn = actor as BuiltInActor;
  switch (builtIn.type) {
    case 'guest':
      return { type: 'guest', id: builtIn.requestId };
    case 'system':
      return { type: 'system', id: builtIn.reason };
    case 'websocket':
      return { type: builtIn.actor.type, id: builtIn.actor.id };
    default:
      return { type: builtIn.type, id: builtIn.id };
  }
}
