/**
 * Verifies an actor token and builds the actor it proves (jose's order: structure, then the signature
 * against an algorithm fixed by the verifier's key — never the token's own `alg` — then claims).
 *
 * - The key comes from our key set by `kid` alone: embedded `jwk`, `jku`, `x5u`, `x5c` are ignored,
 *   and a `kid` we don't hold is refused. The header's `alg` must equal that key's `alg`.
 * - `typ` must be `actor+jwt`; `crit` is refused; `iss`, `aud`, `sub`, `iat`, `exp`, `jti`, `act` are
 *   required and typed; lifetime (`exp - iat`) at most 1 h; clock tolerance at most 30 s.
 * - `act` is `user` or `service`. Nothing else — `system` above all — is ever accepted.
 *
 * Failures throw `InvalidToken` or `TokenExpired` with fixed messages: never the token, never jose's
 * message.
 */
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { InvalidToken, TokenExpired } from '../../errors.ts';
import { isPermission, isRole, type Permission } from '../../policy/permissions.ts';
import type { ServiceActor, TokenActor, UserActor } from '../actor.ts';
import { ACTOR_TOKEN_TYPE, MAX_CLOCK_TOLERANCE_SECONDS, MAX_LIFETIME_SECONDS, MAX_TOKEN_LENGTH } from './claims.ts';
import type { ActorKeys } from './keys.ts';

export interface VerifyOptions {
  issuer: string;
  audience: string;
  /** Seconds, at most 30. */
  clockToleranceSeconds?: number;
  /** Seconds since the epoch; injectable for tests. */
  now?: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * @example
 * const actor = await verifyActorToken(token, keys, { issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE })
 * actor.type // 'user' | 'service'
 */
export async function verifyActorToken(token: string, keys: ActorKeys, options: VerifyOptions): Promise<TokenActor> {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw new InvalidToken();
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new InvalidToken();
  }
  if (header.crit !== undefined || header.b64 !== undefined) throw new InvalidToken();
  const key = typeof header.kid === 'string' ? keys.verifying.get(header.kid) : undefined;
  if (!key || header.alg !== key.alg) throw new InvalidToken();

  const tolerance = Math.min(options.clockToleranceSeconds ?? MAX_CLOCK_TOLERANCE_SECONDS, MAX_CLOCK_TOLERANCE_SECONDS);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      typ: ACTOR_TOKEN_TYPE,
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'],
      maxTokenAge: MAX_LIFETIME_SECONDS,
      clockTolerance: tolerance,
      ...(options.now === undefined ? {} : { currentDate: new Date(options.now * 1000) }),
    }));
  } catch (error) {
    // jose reports both a passed `exp` and a too-old `iat` (maxTokenAge) as JWTExpired; only the first
    // is TOKEN_EXPIRED (SPEC §3), the second a token that never should have lived that long.
    if (error instanceof errors.JWTExpired && error.claim === 'exp') throw new TokenExpired();
    throw new InvalidToken();
  }
  return actorFromClaims(payload);
}

function actorFromClaims(claims: Record<string, unknown>): TokenActor {
  const { sub, iat, exp, jti, act, org } = claims;
  if (typeof sub !== 'string' || typeof jti !== 'string' || jti.length === 0 || jti.length > 128)
    throw new InvalidToken();
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat || exp - iat > MAX_LIFETIME_SECONDS) {
    throw new InvalidToken();
  }
  if (org !== undefined && (typeof org !== 'string' || !UUID.test(org))) throw new InvalidToken();
  const token = { jti, issuedAt: iat, expiresAt: exp };

  if (act === 'user') {
    const { role, sid } = claims;
    if (!UUID.test(sub) || typeof sid !== 'string' || sid.length === 0 || sid.length > 128) throw new InvalidToken();
    if (org === undefined ? role !== undefined : !isRole(role)) throw new InvalidToken();
    const actor: UserActor = {
      type: 'user',
      id: sub,
      organizationId: (org as string | undefined) ?? null,
      role: org === undefined ? null : (role as UserActor['role']),
      sessionId: sid,
      token,
    };
    return Object.freeze(actor);
  }
  if (act === 'service') {
    const { scope } = claims;
    if (!UUID.test(sub) || org === undefined || typeof scope !== 'string') throw new InvalidToken();
    const scopes = scope === '' ? [] : scope.split(' ');
    if (!scopes.every(isPermission) || new Set(scopes).size !== scopes.length) throw new InvalidToken();
    const actor: ServiceActor = {
      type: 'service',
      id: sub,
      organizationId: org as string,
      scopes: Object.freeze(scopes as Permission[]),
      token,
    };
    return Object.freeze(actor);
  }
  // `system`, a custom type, a missing or mistyped `act`: no token can produce any of these.
  throw new InvalidToken();
}
