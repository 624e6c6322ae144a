/**
 * A bearer token from any transport (the `Authorization` header, the WebSocket subprotocol, a room's
 * `reauth` frame) → a verified, unrevoked token actor.
 */
import type { TokenActor } from '../actor/actor.ts';
import { resolveActorToken } from '../actor/resolve.ts';
import { loadActorKeys } from '../actor/tokens/keys.ts';
import type { Database } from '../db/client.ts';
import type { Env } from '../env.ts';
import { revocationSource } from './revocations.ts';

export async function resolveBearer(token: string, env: Env, db: () => Database): Promise<TokenActor> {
  const keys = await loadActorKeys(env.ACTOR_SIGNING_KEYS);
  return resolveActorToken(token, {
    keys,
    issuer: env.ACTOR_ISSUER,
    audience: env.ACTOR_AUDIENCE,
    revocations: { isRevoked: (actor) => revocationSource(db()).isRevoked(actor) },
  });
}
