/**
 * `GET /v1/rooms/:documentId` with `Upgrade: websocket` (SPEC §4). Credentials come from the
 * `Authorization` header or, for browsers, from the subprotocols `["signet.v1", "bearer.<token>"]`.
 * The actor is verified and `rooms:join` checked on the document before the upgrade (401 / 404).
 */
import type { IRequest } from 'itty-router';
import { type Context, withActor } from '../context.ts';
import { InvalidToken, ValidationFailed } from '../errors.ts';
import { resolveBearer } from '../identity/resolve-bearer.ts';
import { BEARER_PREFIX, SUBPROTOCOL } from '../rooms/protocol.ts';
import { connectToRoom, joinRoom } from '../services/rooms.ts';

/** `GET /v1/rooms/:documentId`: `documentId` as the route table read it (a uuid in lower case). */
export async function openRoom(request: IRequest, ctx: Context, documentId: string): Promise<Response> {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
    throw new ValidationFailed([{ path: 'upgrade', message: 'This endpoint only accepts a WebSocket upgrade.' }]);
  }
  const offered = (request.headers.get('sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const bearer = offered.find((p) => p.startsWith(BEARER_PREFIX))?.slice(BEARER_PREFIX.length);
  const subprotocol = offered.includes(SUBPROTOCOL);
  if (bearer !== undefined && !subprotocol) {
    throw new ValidationFailed([
      { path: 'sec-websocket-protocol', message: `Offer "${SUBPROTOCOL}" with the bearer.` },
    ]);
  }
  let actorCtx = ctx;
  if (bearer !== undefined && ctx.actor.type === 'guest') {
    if (bearer === '') throw new InvalidToken();
    actorCtx = withActor(ctx, await resolveBearer(bearer, ctx.env, () => ctx.db));
  }
  const admission = await joinRoom(actorCtx, { documentId, subprotocol });
  return connectToRoom(ctx.env, admission);
}
