/**
 * Token → actor, the whole way: the per-isolate cache of verified tokens, verification on a miss, then
 * the revocation check on every use (SPEC §2/§3: `TOKEN_REVOKED`). Where revocations come from is the
 * caller's concern (`RevocationSource`), so this module stays free of the database.
 */
import { TokenRevoked } from '../errors.ts';
import type { TokenActor } from './actor.ts';
import { VerifiedTokenCache } from './tokens/cache.ts';
import type { ActorKeys } from './tokens/keys.ts';
import { verifyActorToken } from './tokens/verify.ts';

export interface RevocationSource {
  /** True when the actor's organization revoked this subject after the token was issued. */
  isRevoked(actor: TokenActor): Promise<boolean>;
}

export interface ResolveOptions {
  keys: ActorKeys;
  issuer: string;
  audience: string;
  revocations: RevocationSource;
  cache?: VerifiedTokenCache;
  /** Seconds since the epoch; injectable for tests. */
  now?: number;
}

const isolateCache = new VerifiedTokenCache();

/**
 * @example
 * const actor = await resolveActorToken(bearer, { keys, issuer, audience, revocations })
 */
export async function resolveActorToken(token: string, options: ResolveOptions): Promise<TokenActor> {
  const cache = options.cache ?? isolateCache;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  let actor = cache.get(token, now);
  if (actor === undefined) {
    actor = await verifyActorToken(token, options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    cache.set(token, actor);
  }
  if (await options.revocations.isRevoked(actor)) throw new TokenRevoked();
  return actor;
}
