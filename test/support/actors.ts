/**
 * Builders for actors of every type, and for tokens: real ones signed with the suite's keys, and
 * hand-made ones for the attack corpus.
 */
import { env, SELF } from 'cloudflare:test';
import { base64url, importJWK, type JWK, SignJWT } from 'jose';
import type { GuestActor, ServiceActor, SystemActor, UserActor, WebSocketActor } from '../../src/actor/actor.ts';
import { systemActor } from '../../src/actor/system.ts';
import { loadActorKeys } from '../../src/actor/tokens/keys.ts';
import { type ActorTokenSubject, signActorToken } from '../../src/actor/tokens/sign.ts';
import type { Permission, Role } from '../../src/policy/permissions.ts';

const now = () => Math.floor(Date.now() / 1000);
const tokenFacts = () => ({ jti: crypto.randomUUID(), issuedAt: now(), expiresAt: now() + 900 });

export function aUser(overrides: Partial<UserActor> = {}): UserActor {
  return {
    type: 'user',
    id: crypto.randomUUID(),
    organizationId: crypto.randomUUID(),
    role: 'editor',
    sessionId: crypto.randomUUID(),
    token: tokenFacts(),
    ...overrides,
  };
}

export function aService(overrides: Partial<ServiceActor> = {}): ServiceActor {
  return {
    type: 'service',
    id: crypto.randomUUID(),
    organizationId: crypto.randomUUID(),
    scopes: ['documents:read'],
    grantor: crypto.randomUUID(),
    token: tokenFacts(),
    ...overrides,
  };
}

export function aGuest(): GuestActor {
  return { type: 'guest', requestId: crypto.randomUUID() };
}

export function aSystem(reason = 'test'): SystemActor {
  return systemActor(reason);
}

export function aWebSocket(actor: UserActor | ServiceActor = aUser()): WebSocketActor {
  return {
    type: 'websocket',
    actor,
    connectionId: crypto.randomUUID(),
    roomId: crypto.randomUUID(),
    expiresAt: actor.token.expiresAt,
  };
}

export async function keys() {
  return loadActorKeys(env.ACTOR_SIGNING_KEYS);
}

/** A real token, signed by the current key. */
export async function signedToken(subject: ActorTokenSubject, options: { ttlSeconds?: number; now?: number } = {}) {
  return (
    await signActorToken(await keys(), subject, {
      issuer: env.ACTOR_ISSUER,
      audience: env.ACTOR_AUDIENCE,
      ...options,
    })
  ).token;
}

export function userSubject(org: string | null = crypto.randomUUID(), role: Role | null = 'editor'): ActorTokenSubject {
  return { type: 'user', sub: crypto.randomUUID(), org, role: org ? role : null, sid: crypto.randomUUID() };
}

export function serviceSubject(scopes: Permission[] = ['documents:read']): ActorTokenSubject {
  return { type: 'service', sub: crypto.randomUUID(), org: crypto.randomUUID(), scopes, grantor: crypto.randomUUID() };
}

/** The suite's private signing JWKs (index 0 signs). */
export function privateSigningJwks(): (JWK & { kid: string; alg: string })[] {
  return JSON.parse(env.ACTOR_SIGNING_KEYS!).keys;
}

/** Signs arbitrary header and claims with a given private JWK: for hand-made and hostile tokens. */
export async function craftToken(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  jwk: JWK = privateSigningJwks()[0]!,
): Promise<string> {
  const alg = String(header.alg ?? jwk.alg);
  const key = await importJWK(jwk, alg);
  return new SignJWT(claims).setProtectedHeader({ ...header, alg } as { alg: string }).sign(key);
}

/**
 * Signs with WebCrypto directly, bypassing jose's own header checks: for headers jose refuses to
 * produce (`crit`, `b64: false`). EdDSA keys only.
 */
export async function rawSignedToken(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<string> {
  const jwk = privateSigningJwks()[0]!;
  const key = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = await crypto.subtle.sign('Ed25519', key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** Standard claims of a valid user token, for hand-made tokens to vary. */
export function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now();
  return {
    iss: env.ACTOR_ISSUER,
    aud: env.ACTOR_AUDIENCE,
    sub: crypto.randomUUID(),
    iat: t,
    exp: t + 600,
    jti: crypto.randomUUID(),
    actor_type: 'user',
    sid: crypto.randomUUID(),
    ...overrides,
  };
}

export function validHeader(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const jwk = privateSigningJwks()[0]!;
  return { alg: jwk.alg, kid: jwk.kid, typ: 'actor+jwt', ...overrides };
}

/** `GET /v1/me` with a bearer token: the quickest way to ask "what does this token make me?". */
export function me(token: string) {
  return SELF.fetch('http://signet.test/v1/me', { headers: { authorization: `Bearer ${token}` } });
}

/** Exchanges an email for a token with the dev grant. */
export async function devToken(email: string, organization?: string, ttl_seconds?: number): Promise<string> {
  const response = await SELF.fetch('http://signet.test/v1/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'dev', email, organization, ttl_seconds }),
  });
  if (response.status !== 200) throw new Error(`dev grant failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
