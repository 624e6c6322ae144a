/**
 * Verifies an actor token and builds the actor it proves (jose's order: structure, then the signature
 * against an algorithm fixed by the verifier's key — never the token's own `alg` — then claims).
 *
 * - The key comes from our key set by `kid` alone: embedded `jwk`, `jku`, `x5u`, `x5c` are ignored,
 *   and a `kid` we don't hold is refused. The header's `alg` must equal that key's `alg`.
 * - `typ` must be `actor+jwt`; `crit` is refused; `iss`, `aud`, `sub`, `iat`, `exp`, `jti`,
 *   `actor_type` are required and typed; lifetime (`exp - iat`) at most 1 h; clock tolerance at most 30 s.
 * - `actor_type` is `user`, `service` or `agent`. Nothing else — `system` above all — is ever accepted.
 *   A service token also names its key's creator (`grantor`), the next link of its chain of grants. An
 *   agent token's `sub` is its user and `act` is RFC 8693's object `{ sub: "agent:<id>", name }`; `act`
 *   on any other token, or an `act` that is not exactly that object (a string above all), is refused.
 *
 * - Every segment must be canonical base64url (no padding, unused trailing bits zero), as strict
 *   verifiers require: otherwise up to 16 spellings of one signature verify, and a token "changed" in
 *   its last character would still be accepted. jose's decoder is lenient here; this is the one
 *   intended divergence (test/actor/tokens/verify-jose-parity.test.ts).
 *
 * Failures throw `InvalidToken` or `TokenExpired` with fixed messages: never the token, never jose's
 * message.
 *
 * Performance (`npm run bench`, `actor.verify_overhead_ratio`): this is jose's `jwtVerify` for our one
 * token shape, done directly on WebCrypto — the same checks in the same order, with jose's `typ`
 * normalisation — without the generic layers (key-type dispatch, JSON serialization, unencoded payloads)
 * that cost a verified token about a third of the signature check itself. The signature is decoded by
 * `base64url.ts`'s loop straight from the token; the JSON segments, canonical base64url already, go
 * through `atob`, with an ASCII fast path. A validated protected-header segment is remembered per key set
 * (every token of a key shares it), so only the signature and the claims are new work for a new token.
 */
import { isPermission, isRole, type Permission } from '../../contract/permissions.ts';
import { InvalidToken, TokenExpired } from '../../errors.ts';
import { UUID } from '../../uuid.ts';
import type { AgentActor, ServiceActor, TokenActor, UserActor } from '../actor.ts';
import { decodeBase64url, isCanonicalBase64url } from './base64url.ts';
import {
  ACTOR_TOKEN_TYPE,
  AGENT_SUBJECT_PREFIX,
  isExpired,
  MAX_CLOCK_TOLERANCE_SECONDS,
  MAX_LIFETIME_SECONDS,
  MAX_TOKEN_LENGTH,
} from './claims.ts';
import type { ActorAlgorithm, ActorKeys, VerificationKey } from './keys.ts';

export interface VerifyOptions {
  issuer: string;
  audience: string;
  /** Seconds, at most 30. */
  clockToleranceSeconds?: number;
  /** Seconds since the epoch; injectable for tests. */
  now?: number;
}

/** One segment of a compact JWS: base64url characters, at least one. */
const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** The registered claims every actor token must carry (jose's `requiredClaims` plus `iss`/`aud`). */
const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'] as const;
/** An agent's name is a label for people: short. */
const MAX_AGENT_NAME_LENGTH = 100;
/** WebCrypto parameters per allowed algorithm, as jose uses them (fixed by the key, never by the token). */
const SIGNATURE: Record<ActorAlgorithm, { name: string; hash?: string }> = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
};
/** jose's `typ` comparison: case-insensitive, with an implied `application/` prefix. */
const normalizeTyp = (typ: string) => (typ.includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`);
const EXPECTED_TYP = normalizeTyp(ACTOR_TOKEN_TYPE);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
/**
 * Any character above ASCII. Spelled as one positive range: V8 scans for that several times faster than
 * for the negated `[^\x00-\x7f]` (the same set), about 1 µs of a claim set's decoding in workerd.
 */
const NON_ASCII = /[\u0080-\uffff]/;
const encoder = new TextEncoder();
/** Validated protected-header segments → their key, per key set; bounded, since headers are attacker-chosen. */
const knownHeaders = new WeakMap<ActorKeys, Map<string, VerificationKey>>();
const MAX_KNOWN_HEADERS = 32;

/**
 * @example
 * const actor = await verifyActorToken(token, keys, { issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE })
 * actor.type // 'user' | 'service' | 'agent'
 */
export async function verifyActorToken(token: string, keys: ActorKeys, options: VerifyOptions): Promise<TokenActor> {
  // Structure first: three non-empty base64url segments. Each is checked once, by what reads it: a
  // protected header we have validated before is the same string, a new one is checked by
  // `keyForHeader`, the signature by its strict decoder (a third `.` included).
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidToken();
  const headerEnd = token.indexOf('.');
  const payloadEnd = token.indexOf('.', headerEnd + 1);
  if (headerEnd < 1 || payloadEnd < 0) throw new InvalidToken();
  const payload = token.slice(headerEnd + 1, payloadEnd);
  if (!SEGMENT.test(payload)) throw new InvalidToken();
  const signature = decodeBase64url(token, payloadEnd + 1);
  if (!signature) throw new InvalidToken();
  const key = keyForHeader(token.slice(0, headerEnd), keys);

  // The signature, against the key's own algorithm, before anything in the payload is read.
  let valid = false;
  try {
    valid = await crypto.subtle.verify(
      SIGNATURE[key.alg],
      key.key,
      signature,
      encoder.encode(token.slice(0, payloadEnd)),
    );
  } catch {
    throw new InvalidToken();
  }
  if (!valid) throw new InvalidToken();

  const claims = decodeJsonObject(payload);
  const tolerance = Math.max(
    0,
    Math.min(options.clockToleranceSeconds ?? MAX_CLOCK_TOLERANCE_SECONDS, MAX_CLOCK_TOLERANCE_SECONDS),
  );
  checkRegisteredClaims(claims, options, tolerance, options.now ?? Math.floor(Date.now() / 1000));
  return actorFromClaims(claims);
}

/**
 * The key a protected header names, once the header passes every check: a JSON object; no `crit` (so
 * no `b64`); a `kid` we hold; `alg` that key's own; `typ` `actor+jwt`. Embedded `jwk`/`jku`/`x5u`/`x5c`
 * are never read.
 */
function keyForHeader(segment: string, keys: ActorKeys): VerificationKey {
  let known = knownHeaders.get(keys);
  const hit = known?.get(segment);
  if (hit) return hit;
  if (!SEGMENT.test(segment)) throw new InvalidToken();
  const header = decodeJsonObject(segment);
  if (header.crit !== undefined || header.b64 !== undefined) throw new InvalidToken();
  const key = typeof header.kid === 'string' ? keys.verifying.get(header.kid) : undefined;
  if (!key || header.alg !== key.alg) throw new InvalidToken();
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== EXPECTED_TYP) throw new InvalidToken();
  if (!known) {
    known = new Map();
    knownHeaders.set(keys, known);
  }
  if (known.size < MAX_KNOWN_HEADERS) known.set(segment, key);
  return key;
}

/**
 * A canonical base64url segment (its alphabet checked by the caller: `atob` would also take `+`, `/`,
 * `=` and whitespace) holding a JSON object (jose: strict UTF-8, a top-level object). `atob`
 * gives the bytes as a binary string; when they are all ASCII — every header and claim set Signet signs —
 * that string already is their UTF-8 text, so the byte array and the decoder are skipped (the costliest
 * part of decoding a claim set); any other byte goes through the strict decoder, as before.
 */
function decodeJsonObject(segment: string): Record<string, unknown> {
  if (!isCanonicalBase64url(segment)) throw new InvalidToken();
  let value: unknown;
  try {
    const binary = atob(segment.replaceAll('-', '+').replaceAll('_', '/'));
    value = JSON.parse(NON_ASCII.test(binary) ? strictUtf8.decode(bytesOf(binary)) : binary);
  } catch {
    throw new InvalidToken();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidToken();
  return value as Record<string, unknown>;
}

/** A binary string's bytes (each character one byte, as `atob` returns them). */
function bytesOf(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * jose's `validateClaimsSet` for our options, in its order: presence, `iss`, `aud`, `iat` and `nbf`
 * typed, `nbf` not in the future, `exp` typed and not passed (the only `TOKEN_EXPIRED`), then `iat` at
 * most an hour old (a token that never should have lived that long) and not in the future.
 */
function checkRegisteredClaims(
  claims: Record<string, unknown>,
  options: VerifyOptions,
  tolerance: number,
  now: number,
): void {
  for (const name of REQUIRED_CLAIMS) if (!Object.hasOwn(claims, name)) throw new InvalidToken();
  if (claims.iss !== options.issuer) throw new InvalidToken();
  const { aud, iat, nbf, exp } = claims;
  if (typeof aud === 'string' ? aud !== options.audience : !(Array.isArray(aud) && aud.includes(options.audience))) {
    throw new InvalidToken();
  }
  if (typeof iat !== 'number') throw new InvalidToken();
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance)) throw new InvalidToken();
  if (typeof exp !== 'number') throw new InvalidToken();
  if (isExpired(exp, now, tolerance)) throw new TokenExpired();
  const age = now - iat;
  if (age - tolerance > MAX_LIFETIME_SECONDS || age < -tolerance) throw new InvalidToken();
}

function actorFromClaims(claims: Record<string, unknown>): TokenActor {
  const { sub, iat, exp, jti, actor_type: type, act, org } = claims;
  if (typeof sub !== 'string' || typeof jti !== 'string' || jti.length === 0 || jti.length > 128)
    throw new InvalidToken();
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat || exp - iat > MAX_LIFETIME_SECONDS) {
    throw new InvalidToken();
  }
  if (org !== undefined && (typeof org !== 'string' || !UUID.test(org))) throw new InvalidToken();
  // `act` is RFC 8693's actor object, and only an agent token has one.
  if (type !== 'agent' && act !== undefined) throw new InvalidToken();
  const token = { jti, issuedAt: iat, expiresAt: exp };

  if (type === 'user') {
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
  if (type === 'service') {
    const { grantor } = claims;
    if (!UUID.test(sub) || org === undefined) throw new InvalidToken();
    // The key's creator: a service token without its chain of grants is refused.
    if (typeof grantor !== 'string' || !UUID.test(grantor)) throw new InvalidToken();
    const actor: ServiceActor = {
      type: 'service',
      id: sub,
      organizationId: org as string,
      scopes: scopesOf(claims.scope),
      grantor,
      token,
    };
    return Object.freeze(actor);
  }
  if (type === 'agent') {
    if (!UUID.test(sub) || org === undefined) throw new InvalidToken();
    const { id, name } = agentOf(act);
    const actor: AgentActor = {
      type: 'agent',
      id,
      organizationId: org as string,
      onBehalfOf: Object.freeze({ type: 'user' as const, id: sub }),
      name,
      scopes: scopesOf(claims.scope),
      token,
    };
    return Object.freeze(actor);
  }
  // `system`, a custom type, a missing or mistyped `actor_type`: no token can produce any of these.
  throw new InvalidToken();
}

/** A space-separated list of known permissions, none repeated. */
function scopesOf(scope: unknown): readonly Permission[] {
  if (typeof scope !== 'string') throw new InvalidToken();
  const scopes = scope === '' ? [] : scope.split(' ');
  if (!scopes.every(isPermission) || new Set(scopes).size !== scopes.length) throw new InvalidToken();
  return Object.freeze(scopes as Permission[]);
}

/** RFC 8693's `act` of an agent token: exactly `{ sub: "agent:<delegation id>", name }`. */
function agentOf(act: unknown): { id: string; name: string } {
  if (typeof act !== 'object' || act === null || Array.isArray(act)) throw new InvalidToken();
  const { sub, name, ...rest } = act as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof sub !== 'string' || typeof name !== 'string') throw new InvalidToken();
  if (!sub.startsWith(AGENT_SUBJECT_PREFIX)) throw new InvalidToken();
  const id = sub.slice(AGENT_SUBJECT_PREFIX.length);
  if (!UUID.test(id) || name.length === 0 || name.length > MAX_AGENT_NAME_LENGTH) throw new InvalidToken();
  return { id, name };
}
