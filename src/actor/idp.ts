/**
 * External identity-provider ID tokens (OIDC: Clerk, Auth0, Cloudflare Access, …), accepted only by
 * the `id_token` grant (SPEC §2). Verified against `IDP_JWKS_URL`, `IDP_ISSUER`, `IDP_AUDIENCE`.
 *
 * The JWKS is cached so that steady state makes no fetch per request: in module memory (per isolate)
 * and in `caches.default` (shared by the isolates of a location, surviving short-lived ones), for
 * `MAX_AGE_MS`. Concurrent requests share one in-flight fetch. A token whose `kid` is unknown forces one
 * refresh per `COOLDOWN_MS` (the IdP rotated its keys); within the cooldown it is simply refused.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import { InvalidToken, TokenExpired } from '../errors.ts';
import { MAX_CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_LENGTH } from './tokens/claims.ts';

export interface IdpConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
}

/**
 * Who an ID token proves: the provider's (`issuer`, `subject`) identifies the user (SPEC §2). The email
 * is only a hint to link an existing user on the identity's first sign-in, and only when verified.
 */
export interface IdpIdentity {
  issuer: string;
  subject: string;
  /** Lower-cased; null when the token carries none. */
  email: string | null;
  /** `email_verified: true` in the token — nothing else counts as verified. */
  emailVerified: boolean;
  name: string | null;
}

/** An ID token lives at most a day (`exp - iat`): a longer-lived one is refused. */
export const MAX_ID_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** Provider subjects are opaque strings; OIDC caps them at 255 ASCII characters. */
const MAX_SUBJECT_LENGTH = 255;

export const MAX_AGE_MS = 10 * 60_000;
export const COOLDOWN_MS = 30_000;
const IDP_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'PS256'];

interface CachedJwks {
  fetchedAt: number;
  resolve: ReturnType<typeof createLocalJWKSet>;
}

const memory = new Map<string, CachedJwks>();
const inflight = new Map<string, Promise<CachedJwks>>();
const lastForcedRefresh = new Map<string, number>();
let fetches = 0;

/** How many times this isolate fetched an IdP JWKS over the network (for `npm run bench`). */
export function idpJwksFetchCount(): number {
  return fetches;
}

/** Drops this isolate's memory of every JWKS, and with `shared` the `caches.default` copy of `url` too (tests). */
export async function forgetIdpJwks(options: { shared?: string } = {}): Promise<void> {
  memory.clear();
  lastForcedRefresh.clear();
  if (options.shared && typeof caches !== 'undefined') await caches.default.delete(sharedCacheKey(options.shared));
}

function sharedCacheKey(url: string): Request {
  return new Request(`https://idp-jwks.signet.internal/?url=${encodeURIComponent(url)}`);
}

/**
 * @example
 * const { issuer, subject } = await verifyIdToken(idToken, { jwksUrl, issuer, audience })
 */
export async function verifyIdToken(token: string, config: IdpConfig): Promise<IdpIdentity> {
  if (token.length > MAX_TOKEN_LENGTH * 4) throw new InvalidToken();
  let jwks = await loadJwks(config.jwksUrl, false);
  let payload: Record<string, unknown>;
  try {
    payload = await verifyWith(token, jwks, config);
  } catch (error) {
    if (!(error instanceof errors.JWKSNoMatchingKey)) throw mapError(error);
    const last = lastForcedRefresh.get(config.jwksUrl) ?? 0;
    if (Date.now() - last < COOLDOWN_MS) throw new InvalidToken();
    lastForcedRefresh.set(config.jwksUrl, Date.now());
    jwks = await loadJwks(config.jwksUrl, true);
    try {
      payload = await verifyWith(token, jwks, config);
    } catch (retryError) {
      throw mapError(retryError);
    }
  }
  return identityOf(payload, config.issuer);
}

/** The identity claims, typed and bounded; anything malformed is `INVALID_TOKEN`. */
function identityOf(payload: Record<string, unknown>, issuer: string): IdpIdentity {
  const { sub, iat, exp, email, email_verified: verified, name } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidToken();
  }
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat) throw new InvalidToken();
  if (exp - iat > MAX_ID_TOKEN_LIFETIME_SECONDS) throw new InvalidToken();
  if (iat > Date.now() / 1000 + MAX_CLOCK_TOLERANCE_SECONDS) throw new InvalidToken();
  if (email !== undefined && (typeof email !== 'string' || !email.includes('@') || email.length > 254)) {
    throw new InvalidToken();
  }
  return {
    issuer,
    subject: sub,
    email: typeof email === 'string' ? email.toLowerCase() : null,
    emailVerified: verified === true,
    // NUL and lone surrogates in these are refused by the exchange (400, SPEC §3 "Text input").
    name: typeof name === 'string' ? Array.from(name).slice(0, 200).join('') : null,
  };
}

async function verifyWith(token: string, jwks: CachedJwks, config: IdpConfig): Promise<Record<string, unknown>> {
  const { payload } = await jwtVerify(token, jwks.resolve, {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: IDP_ALGORITHMS,
    requiredClaims: ['sub', 'exp', 'iat'],
    clockTolerance: MAX_CLOCK_TOLERANCE_SECONDS,
  });
  return payload;
}

function mapError(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new TokenExpired();
  if (error instanceof InvalidToken) return error;
  if (error instanceof errors.JOSEError) return new InvalidToken();
  return error as Error; // the JWKS could not be fetched: not the client's fault
}

async function loadJwks(url: string, force: boolean): Promise<CachedJwks> {
  const cached = memory.get(url);
  if (!force && cached && Date.now() - cached.fetchedAt < MAX_AGE_MS) return cached;
  let pending = inflight.get(url);
  if (!pending) {
    pending = refresh(url, force).finally(() => inflight.delete(url));
    inflight.set(url, pending);
  }
  return pending;
}

async function refresh(url: string, force: boolean): Promise<CachedJwks> {
  const cacheKey = sharedCacheKey(url);
  const shared = typeof caches === 'undefined' ? undefined : caches.default;
  if (!force && shared) {
    const hit = await shared.match(cacheKey);
    if (hit) {
      const fetchedAt = Number(hit.headers.get('x-fetched-at') ?? 0);
      const jwks = parseJwks(await hit.json());
      if (jwks && Date.now() - fetchedAt < MAX_AGE_MS) return remember(url, jwks, fetchedAt);
    }
  }
  fetches += 1;
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`IdP JWKS answered ${response.status}`);
  const jwks = parseJwks(await response.json());
  if (!jwks) throw new Error('IdP JWKS is not a JWK Set');
  const fetchedAt = Date.now();
  if (shared) {
    const copy = new Response(JSON.stringify(jwks), {
      headers: {
        'content-type': 'application/json',
        'cache-control': `max-age=${MAX_AGE_MS / 1000}`,
        'x-fetched-at': String(fetchedAt),
      },
    });
    await shared.put(cacheKey, copy);
  }
  return remember(url, jwks, fetchedAt);
}

function remember(url: string, jwks: JSONWebKeySet, fetchedAt: number): CachedJwks {
  const entry = { fetchedAt, resolve: createLocalJWKSet(jwks) };
  memory.set(url, entry);
  return entry;
}

function parseJwks(value: unknown): JSONWebKeySet | null {
  const keys = (value as { keys?: unknown } | null)?.keys;
  return Array.isArray(keys) ? (value as JSONWebKeySet) : null;
}
