/** The JSON shape of an actor (`GET /v1/me`, token responses): what the actor is and may do, no secrets. */
import type { Actor, BuiltInActor } from '../../actor/actor.ts';
import { customActorType } from '../../actor/registry.ts';
import { permissionsOf } from '../../policy/permissions.ts';

export type ActorView =
  | {
      type: 'user';
      id: string;
      organizationId: string | null;
      role: string | null;
      permissions: string[];
      sessionId: string;
      expiresAt: string;
    }
  | { type: 'service'; id: string; organizationId: string; scopes: string[]; expiresAt: string }
  | {
      type: 'agent';
      id: string;
      organizationId: string;
      onBehalfOf: { type: 'user'; id: string };
      name: string;
      scopes: string[];
      expiresAt: string;
    }
  | { type: 'guest'; requestId: string }
  | { type: 'system'; reason: string }
  | { type: 'websocket'; connectionId: string; roomId: string; actor: ActorView }
  | Readonly<Record<string, unknown>>;

/** An actor's JSON view; a custom type's comes from its registration. */
export function actorView(value: Actor): ActorView {
  const custom = customActorType(value);
  if (custom) return { ...custom.view(value), type: (value as { type: string }).type };
  const actor = value as BuiltInActor;
  switch (actor.type) {
    case 'user':
      return {
        type: 'user',
        id: actor.id,
        organizationId: actor.organizationId,
        role: actor.role,
        permissions: actor.role ? [...permissionsOf(actor.role)] : [],
        sessionId: actor.sessionId,
        expiresAt: new Date(actor.token.expiresAt * 1000).toISOString(),
      };
    case 'service':
      return {
        type: 'service',
        id: actor.id,
        organizationId: actor.organizationId,
        scopes: [...actor.scopes],
        expiresAt: new Date(actor.token.expiresAt * 1000).toISOString(),
      };
    case 'agent':
      return {
        type: 'agent',
        id: actor.id,
        organizationId: actor.organizationId,
        onBehalfOf: { type: 'user', id: actor.onBehalfOf.id },
        name: actor.name,
        scopes: [...actor.scopes],
        expiresAt: new Date(actor.token.expiresAt * 1000).toISOString(),
      };
    case 'guest':
      return { type: 'guest', requestId: actor.requestId };
    case 'system':
      return { type: 'system', reason: actor.reason };
    case 'websocket':
      return {
        type: 'websocket',
        connectionId: actor.connectionId,
        roomId: actor.roomId,
        actor: actorView(actor.actor),
      };
  }
}
