/**
 * Custom actor types (SPEC §1: the actor type is an open, discriminated union). One registration makes
 * a new type work everywhere an actor is read: the guards (`isActor`, `requireActor`), `GET /v1/me`
 * (`view`), policies (`permissions`), tenancy (an actor with an `organizationId` runs tenant actions in
 * that organization, under row-level security), the audit principal and log lines (`principal`), and — when
 * it proves itself with a credential of its own — authentication (`credential`: an `Authorization`
 * scheme and its verifier). Nothing in a request can produce a custom actor except that verifier.
 *
 * Owns: the registry. Doesn't own: what a type may do (its `permissions`), how it is verified.
 */
import type { Permission } from '../contract/permissions.ts';

/** Types no registration may take. */
const BUILT_IN = new Set(['user', 'service', 'agent', 'guest', 'system', 'websocket']);
/** An `Authorization` scheme: a token68-style name, never `Bearer` (Signet's own tokens). */
const SCHEME = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;

export interface ActorTypeDefinition<A extends { readonly type: string }> {
  /** The type's guard: structural checks of a value claiming to be this actor. */
  readonly is: (value: unknown) => value is A;
  /** The JSON shape of the actor (`GET /v1/me`): what it is and may do, no secrets. */
  readonly view: (actor: A) => Readonly<Record<string, unknown>>;
  /** The audit trail's and the log lines' `actor: { type, id }`. */
  readonly principal: (actor: A) => { readonly type: string; readonly id: string };
  /** What it may do; nothing when absent (deny by default). */
  readonly permissions?: (actor: A) => ReadonlySet<Permission>;
  /**
   * How a request proves this actor: `Authorization: <scheme> <credential>`. `verify` throws a domain
   * error (e.g. `InvalidToken`) for a credential it refuses.
   */
  readonly credential?: {
    readonly scheme: string;
    readonly verify: (credential: string, env: unknown) => Promise<A>;
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds definitions of many actor types
type AnyDefinition = ActorTypeDefinition<any>;

const definitions = new Map<string, AnyDefinition>();
const schemes = new Map<string, AnyDefinition>();

/**
 * Registers a custom actor type. A type or scheme already taken — a built-in one above all — throws.
 *
 * @example
 * registerActorType('bot', { is: isBotActor, view: (b) => ({ type: 'bot', id: b.id }),
 *   principal: (b) => ({ type: 'bot', id: b.id }), permissions: () => new Set(['documents:read']) })
 */
export function registerActorType<A extends { readonly type: string }>(
  type: A['type'],
  definition: ActorTypeDefinition<A>,
): void {
  if (BUILT_IN.has(type)) throw new Error(`"${type}" is a built-in actor type`);
  if (definitions.has(type)) throw new Error(`actor type "${type}" is already registered`);
  const scheme = definition.credential?.scheme;
  if (scheme !== undefined) {
    if (!SCHEME.test(scheme) || scheme.toLowerCase() === 'bearer') throw new Error(`invalid scheme "${scheme}"`);
    if (schemes.has(scheme.toLowerCase())) throw new Error(`scheme "${scheme}" is already registered`);
    schemes.set(scheme.toLowerCase(), definition);
  }
  definitions.set(type, definition);
}

/**
 * The registration of a value's type, when the value passes that type's guard.
 *
 * @example
 * customActorType(bot)?.principal(bot) // { type: 'bot', id: … }
 */
export function customActorType(value: unknown): AnyDefinition | undefined {
  const type = (value as { type?: unknown } | null)?.type;
  const definition = typeof type === 'string' ? definitions.get(type) : undefined;
  return definition?.is(value) ? definition : undefined;
}

/**
 * The registered verifier of an `Authorization` scheme (case-insensitive), if any.
 *
 * @example
 * credentialScheme('Webhook')?.credential?.verify(credential, env)
 */
export function credentialScheme(scheme: string): AnyDefinition | undefined {
  return schemes.get(scheme.toLowerCase());
}
