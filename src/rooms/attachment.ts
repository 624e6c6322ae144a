/**
 * What a connection carries through hibernation and eviction: its id, its verified token actor — the
 * very actor the Worker verified, validated again on every read — and its expiry, in the socket's
 * attachment (about 400 bytes of structured clone; workerd refuses an attachment over 16 KiB,
 * `MAX_ATTACHMENT_SIZE` in src/workerd/api/web-socket.h). Framework data lives under `signet`, apart
 * from anything user-controlled; nothing here ever comes from client input.
 */
import { chainOf, type TokenActor, type WebSocketActor } from '../actor/actor.ts';
import { isTokenActor } from '../actor/guards.ts';
import { isPermission, isRole } from '../policy/permissions.ts';
import type { ConnectionAwareness } from './awareness.ts';
import type { RoomActorView } from './protocol.ts';

/** The verified token actor as the Worker hands it to the room, and as the attachment keeps it. */
export type AdmittedActor = TokenActor & { readonly organizationId: string };

export interface Admission {
  readonly actor: AdmittedActor;
  readonly roomId: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** Whether the client authenticated with the `signet.v1` subprotocol (it is echoed back). */
  readonly subprotocol: boolean;
  /** The document's `version` as the Worker read it: a room whose Yjs state is older catches up first. */
  readonly documentVersion: number;
}

export interface Attachment {
  /**
   * Set when the room closed the connection itself (expiry, revocation): from then on no frame of it
   * is applied, after a hibernation too, even while the close handshake is still under way.
   */
  readonly closing?: true;
  readonly signet: {
    readonly v: 2;
    readonly connectionId: string;
    readonly roomId: string;
    readonly actor: AdmittedActor;
    readonly expiresAt: number;
  };
  /**
   * The connection's Yjs awareness (SPEC §4.1), apart from the framework data: the client id it is bound
   * to and its latest state, stamped by the room.
   */
  readonly awareness?: ConnectionAwareness;
  /**
   * The connection's recent refused frames (`MAX_STRIKES` within `STRIKE_WINDOW_MS` closes it with 4008)
   * and when the last one came (ms), kept here so that a hibernation doesn't forgive them: paced refusals
   * would otherwise never add up.
   */
  readonly strikes?: { readonly count: number; readonly at: number };
}

const isUuidLike = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 64;
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** A stored actor, checked field by field: exactly what a verified token produces, or nothing. */
function isStoredActor(value: unknown): value is AdmittedActor {
  if (!isTokenActor(value) || typeof value.organizationId !== 'string') return false;
  const t = value.token as unknown as { jti?: unknown; issuedAt?: unknown; expiresAt?: unknown } | undefined;
  if (!t || typeof t.jti !== 'string' || !isNumber(t.issuedAt) || !isNumber(t.expiresAt)) return false;
  switch (value.type) {
    case 'user':
      return isRole(value.role) && typeof value.sessionId === 'string';
    case 'service':
      return Array.isArray(value.scopes) && value.scopes.every(isPermission) && isUuidLike(value.grantor);
    case 'agent':
      return (
        Array.isArray(value.scopes) &&
        value.scopes.every(isPermission) &&
        value.onBehalfOf?.type === 'user' &&
        isUuidLike(value.onBehalfOf.id) &&
        typeof value.name === 'string'
      );
  }
}

/** Reads an attachment back, refusing anything that isn't exactly what a room wrote. */
export function readAttachment(value: unknown): Attachment['signet'] | null {
  const signet = (value as Attachment | null)?.signet;
  if (signet?.v !== 2 || typeof signet.connectionId !== 'string' || typeof signet.roomId !== 'string') return null;
  if (!isNumber(signet.expiresAt) || !isStoredActor(signet.actor)) return null;
  return signet;
}

/** A connection's stored awareness, or undefined unless it is exactly what a room wrote. */
export function readAwareness(value: unknown): ConnectionAwareness | undefined {
  const awareness = (value as Attachment | null)?.awareness;
  if (!awareness || !Number.isSafeInteger(awareness.clientId) || !Number.isSafeInteger(awareness.clock))
    return undefined;
  return typeof awareness.state === 'string' ? awareness : undefined;
}

/** The stored strikes: a non-negative count and a time, or none. */
export function readStrikes(value: unknown): { count: number; at: number } {
  const strikes = (value as Attachment | null)?.strikes;
  if (!strikes || !Number.isSafeInteger(strikes.count) || strikes.count < 0 || !isNumber(strikes.at)) {
    return { count: 0, at: 0 };
  }
  return { count: strikes.count, at: strikes.at };
}

/** The websocket actor (SPEC §1) behind a connection, for policy checks. */
export function websocketActor(signet: Attachment['signet']): WebSocketActor {
  return {
    type: 'websocket',
    actor: signet.actor,
    connectionId: signet.connectionId,
    roomId: signet.roomId,
    expiresAt: signet.expiresAt,
  };
}

/** An actor as the room shows it to everyone (SPEC §4): no scopes, no session, no token facts. */
export function roomView(actor: AdmittedActor): RoomActorView {
  switch (actor.type) {
    case 'user':
      return actor.role ? { type: 'user', id: actor.id, role: actor.role } : { type: 'user', id: actor.id };
    case 'service':
      return { type: 'service', id: actor.id };
    case 'agent':
      return {
        type: 'agent',
        id: actor.id,
        onBehalfOf: { type: 'user', id: actor.onBehalfOf.id },
        name: actor.name,
      };
  }
}

export function actorTag(type: string, id: string): string {
  return `actor:${type}:${id}`;
}

/**
 * A connection's tags: one per link of its actor's chain of grants, so revoking any link (a member, a
 * key, a delegation) finds every socket derived from it — a service's sockets are tagged with its key's
 * creator too, an agent's with its user.
 */
export function chainTags(signet: Attachment['signet']): string[] {
  return chainOf(signet.actor).map((link) => actorTag(link.type, link.id));
}
