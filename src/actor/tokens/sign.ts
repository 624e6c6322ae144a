/**
 * Issues actor tokens: JWS compact, `typ: actor+jwt`, signed by the first key of `ACTOR_SIGNING_KEYS`.
 * The actor's type is the `actor_type` claim: `user`, `service` or `agent` — the system actor never has
 * a token. An agent token's `sub` is its user and its RFC 8693 actor claim `act` names the agent:
 * `{ sub: "agent:<delegation id>", name }`; no other token carries `act`.
 */
import { SignJWT } from 'jose';
import type { Permission, Role } from '../../contract/permissions.ts';
import { ACTOR_TOKEN_TYPE, AGENT_SUBJECT_PREFIX, clampLifetime } from './claims.ts';
import type { ActorKeys } from './keys.ts';

export type ActorTokenSubject =
  | { type: 'user'; sub: string; org: string | null; role: Role | null; sid: string }
  | { type: 'service'; sub: string; org: string; scopes: readonly Permission[]; grantor: string }
  | { type: 'agent'; sub: string; org: string; scopes: readonly Permission[]; delegation: string; name: string };

export interface SignOptions {
  issuer: string;
  audience: string;
  ttlSeconds?: number;
  /**
   * The token's `iat`, seconds since the epoch — possibly fractional (an exchange dates its token by the
   * millisecond it read its authority); now by default. `exp` is a whole second: `floor(iat) + ttl`.
   */
  now?: number;
}

export interface IssuedToken {
  token: string;
  jti: string;
  issuedAt: number;
  expiresAt: number;
  expiresIn: number;
}

/**
 * @example
 * const { token } = await signActorToken(keys, { type: 'user', sub: userId, org, role: 'editor', sid }, { issuer, audience })
 */
export async function signActorToken(
  keys: ActorKeys,
  subject: ActorTokenSubject,
  options: SignOptions,
): Promise<IssuedToken> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const ttl = clampLifetime(options.ttlSeconds);
  const exp = Math.floor(now) + ttl;
  const jti = crypto.randomUUID();
  const payload: Record<string, unknown> = { actor_type: subject.type };
  switch (subject.type) {
    case 'user':
      if (subject.org) {
        payload.org = subject.org;
        payload.role = subject.role;
      }
      payload.sid = subject.sid;
      break;
    case 'service':
      payload.org = subject.org;
      payload.scope = subject.scopes.join(' ');
      payload.grantor = subject.grantor;
      break;
    case 'agent':
      payload.org = subject.org;
      payload.scope = subject.scopes.join(' ');
      payload.act = { sub: `${AGENT_SUBJECT_PREFIX}${subject.delegation}`, name: subject.name };
      break;
  }
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: keys.signing.alg, kid: keys.signing.kid, typ: ACTOR_TOKEN_TYPE })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(subject.sub)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(keys.signing.key);
  return { token, jti, issuedAt: now, expiresAt: exp, expiresIn: ttl };
}
