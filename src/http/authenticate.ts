/**
 * Credentials → actor, for every request before routing. No `Authorization` header → a guest. A header
 * that is present but not a valid, unrevoked Signet token → 401 with the SPEC's code (never a silent
 * guest). Tokens are never logged or echoed.
 */
import type { Actor, TokenActor } from '../actor/actor.ts';
import { resolveActorToken } from '../actor/resolve.ts';
import { loadActorKeys } from '../actor/tokens/keys.ts';
import type { Database } from '../db/client.ts';
import type { Env } from '../env.ts';
import { InvalidToken } from '../errors.ts';
import { revocationSource } from '../services/revocations.ts';

const BEARER = /^Bearer +([^\s]+) *$/i;

export async function authenticate(request: Request, env: Env, requestId: string, db: () => Database): Promise<Actor> {
  const header = request.headers.get('authorization');
  if (header === null) return { type: 'guest', requestId };
  const match = BEARER.exec(header);
  if (!match) throw new InvalidToken();
  return resolveBearer(match[1]!, env, db);
}

/** A bearer token from any transport (header, WebSocket subprotocol, `reauth` frame). */
export async function resolveBearer(token: string, env: Env, db: () => Database): Promise<TokenActor> {
  const keys = await loadActorKeys(env.ACTOR_SIGNING_KEYS);
  return resolveActorToken(token, {
    keys,
    issuer: env.ACTOR_ISSUER,
    audience: env.ACTOR_AUDIENCE,
    revocations: { isRevoked: (actor) => revocationSource(db()).isRevoked(actor) },
  });
}
