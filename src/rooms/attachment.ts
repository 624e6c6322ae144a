/**
 * What a connection carries through hibernation and eviction: its id, its verified actor and its
 * expiry, in the socket's attachment (about 300 bytes of structured clone; workerd refuses an attachment
 * over 16 KiB, `MAX_ATTACHMENT_SIZE` in src/workerd/api/web-socket.h). Framework data lives
 * under `signet`, apart from anything user-controlled; nothing here ever comes from client input.
 */
import type { ServiceActor, TokenActor, UserActor, WebSocketActor } from '../actor/actor.ts';
import { isPermission, isRole, type Permission, type Role } from '../policy/permissions.ts';
import type { RoomActorView } from './protocol.ts';

/** The verified actor as the Worker hands it to the room, and as the attachment keeps it. */
export interface AdmittedActor {
  readonly type: 'user' | 'service';
  readonly id: string;
  readonly organizationId: string;
  readonly role: Role | null;
  readonly scopes: readonly Permission[];
  readonly sessionId: string;
  readonly issuedAt: number;
}

export interface Admission {
  readonly actor: AdmittedActor;
  readonly roomId: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** Whether the client authenticated with the `signet.v1` subprotocol (it is echoed back). */
  readonly subprotocol: boolean;
}

export interface Attachment {
  /**
   * Set when the room closed the connection itself (expiry, revocation): from then on no frame of it
   * is applied, after a hibernation too, even while the close handshake is still under way.
   */
  readonly closing?: true;
  readonly signet: {
    readonly v: 1;
    readonly connectionId: string;
    readonly roomId: string;
    readonly actor: AdmittedActor;
    readonly expiresAt: number;
  };
}

export function admittedFrom(actor: TokenActor & { organizationId: string }): AdmittedActor {
  return actor.type === 'user'
    ? {
        type: 'user',
        id: actor.id,
        organizationId: actor.organizationId,
        role: actor.role,
        scopes: [],
        sessionId: actor.sessionId,
        issuedAt: actor.token.issuedAt,
      }
    : {
        type: 'service',
        id: actor.id,
        organizationId: actor.organizationId,
        role: null,
        scopes: actor.scopes,
        sessionId: '',
        issuedAt: actor.token.issuedAt,
      };
}

/** Reads an attachment back, refusing anything that isn't exactly what a room wrote. */
export function readAttachment(value: unknown): Attachment['signet'] | null {
  const signet = (value as Attachment | null)?.signet;
  if (signet?.v !== 1 || typeof signet.connectionId !== 'string') return null;
  const a = signet.actor;
  if (!a || (a.type !== 'user' && a.type !== 'service') || typeof a.id !== 'string') return null;
  if (a.role !== null && !isRole(a.role)) return null;
  if (!Array.isArray(a.scopes) || !a.scopes.every(isPermission)) return null;
  return signet;
}

/** The websocket actor (SPEC §1) behind a connection, for policy checks. */
export function websocketActor(signet: Attachment['signet']): WebSocketActor {
  const a = signet.actor;
  const token = { jti: signet.connectionId, issuedAt: a.issuedAt, expiresAt: signet.expiresAt };
  const inner: UserActor | ServiceActor =
    a.type === 'user'
      ? { type: 'user', id: a.id, organizationId: a.organizationId, role: a.role, sessionId: a.sessionId, token }
      : { type: 'service', id: a.id, organizationId: a.organizationId, scopes: a.scopes, token };
  return {
    type: 'websocket',
    actor: inner,
    connectionId: signet.connectionId,
    roomId: signet.roomId,
    expiresAt: signet.expiresAt,
  };
}

export function roomView(actor: AdmittedActor): RoomActorView {
  return actor.type === 'user' && actor.role
    ? { type: 'user', id: actor.id, role: actor.role }
    : { type: actor.type, id: actor.id };
}

export function actorTag(type: string, id: string): string {
  return `actor:${type}:${id}`;
}
