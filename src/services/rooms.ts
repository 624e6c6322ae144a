/**
 * Rooms from the Worker's side (SPEC §4): who may join a document's room (`rooms:join`, the document in
 * the actor's organization — else 404), the admission handed to the room, and the revocations pushed
 * to rooms after a change commits (after-action hooks of documents, members and API keys).
 */
import { and, eq } from 'drizzle-orm';
import type { TokenActor } from '../actor/actor.ts';
import { documents } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import type { Env } from '../env.ts';
import { DatabaseUnavailable, NotFound, TokenRevoked } from '../errors.ts';
import type { Admission } from '../rooms/attachment.ts';
import { CLOSE } from '../rooms/protocol.ts';
import { defineAction } from './action.ts';
import { resourceId } from './ids.ts';

export const joinRoom = defineAction({
  name: 'rooms.join',
  permission: 'rooms:join',
  resource: 'room',
  resourceId: (input: { documentId: string }) => input.documentId,
  async run(ctx, input: { documentId: string; subprotocol: boolean }): Promise<Admission> {
    const documentId = resourceId(input.documentId);
    const { db } = ctx;
    const [rows] = await runScoped(db, ctx.scope, [
      db
        .select({ id: documents.id, version: documents.version })
        .from(documents)
        .where(and(eq(documents.id, documentId), eq(documents.organizationId, ctx.organizationId))),
    ]);
    if (!rows[0]) throw new NotFound();
    const actor = ctx.actor as TokenActor & { organizationId: string };
    return {
      // The verified token actor itself: a plain, JSON-safe value the room validates again on read.
      actor,
      // One room per document: the id as the database spells it, whatever the path's case.
      roomId: rows[0].id,
      expiresAt: actor.token.expiresAt,
      subprotocol: input.subprotocol,
      documentVersion: Number(rows[0].version),
    };
  },
});

/**
 * Hands a verified admission to the document's room; the request is built here, never copied from the
 * client. A room that heard of the actor's revocation before this admission refuses it (401).
 */
export async function connectToRoom(env: Env, admission: Admission): Promise<Response> {
  const room = env.ROOMS.get(env.ROOMS.idFromName(admission.roomId));
  const response = await room.fetch('https://room.internal/connect', {
    headers: { upgrade: 'websocket', 'x-signet-admission': JSON.stringify(admission) },
  });
  if (response.status === 401) throw new TokenRevoked();
  // Deleted after the Worker's check, before the room loaded it: as missing as any other (SPEC's 404).
  if (response.status === 404) throw new NotFound();
  // The room could not load the document's shared state (the database did not answer).
  if (response.status === 503) throw new DatabaseUnavailable();
  return response;
}

/** A deleted document's room closes every connection with 4003 and forgets the document's Yjs state. */
export async function closeDocumentRoom(env: Env, documentId: string): Promise<void> {
  await env.ROOMS.get(env.ROOMS.idFromName(documentId)).deleteDocument();
}

/**
 * Every connection in every active room of the organization closes with 4003; returns how many. With
 * `refuseUntil` (ms; once the organization's tokens are revoked), no room admits a token of the
 * organization issued up to then; with null, nothing is refused (the tokens still work over HTTP).
 */
export function closeOrganizationRoomConnections(
  env: Env,
  organizationId: string,
  reason: string,
  refuseUntil: number | null,
): Promise<number> {
  return env.ORG_ROOMS.get(env.ORG_ROOMS.idFromName(organizationId)).closeAll(
    CLOSE.ACCESS_REVOKED,
    reason,
    refuseUntil,
  );
}

/**
 * An actor whose access was revoked loses its connections in every room of the organization: 4003. The
 * rooms refuse its tokens issued up to `revokedAt`, the revocation's database time (ms) as the action that
 * committed it read it — the line HTTP draws; a retried push doesn't move it past a token exchanged since.
 */
export async function revokeInRooms(
  env: Env,
  organizationId: string,
  type: 'user' | 'service' | 'agent',
  id: string,
  revokedAt: number,
): Promise<void> {
  await env.ORG_ROOMS.get(env.ORG_ROOMS.idFromName(organizationId)).revokeActor(type, id, revokedAt);
}
