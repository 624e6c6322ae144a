/** The local identity provider started by test/global-setup.ts: its keys, ID tokens, fetch count. */
import { env } from 'cloudflare:test';
import { importJWK, type JWK, SignJWT } from 'jose';

const base = () => env.IDP_JWKS_URL!.replace(/\/jwks\.json$/, '');

export async function idpKey(): Promise<JWK & { kid: string }> {
  return ((await (await fetch(`${base()}/__idp/key`)).json()) as { privateJwk: JWK & { kid: string } }).privateJwk;
}

export async function rotateIdpKey(): Promise<JWK & { kid: string }> {
  const response = await fetch(`${base()}/__idp/rotate`, { method: 'POST' });
  return ((await response.json()) as { privateJwk: JWK & { kid: string } }).privateJwk;
}

/** JWKS fetches counted by the IdP server, in total or for one `suite` (`/jwks.json?suite=…`). */
export async function idpJwksFetches(suite?: string): Promise<number> {
  const query = suite === undefined ? '' : `?suite=${encodeURIComponent(suite)}`;
  return ((await (await fetch(`${base()}/__idp/stats${query}`)).json()) as { fetches: number }).fetches;
}

export async function idToken(
  claims: { email?: string; email_verified?: boolean | 'absent'; name?: string; sub?: string } = {},
  options: {
    key?: JWK & { kid: string };
    audience?: string;
    issuer?: string;
    expiresIn?: string;
    /** Seconds since the epoch, or `null` to leave the claim out. */
    iat?: number | null;
    exp?: number | null;
  } = {},
): Promise<string> {
  const key = options.key ?? (await idpKey());
  const verified = claims.email_verified === 'absent' ? undefined : (claims.email_verified ?? true);
  const jwt = new SignJWT({ email: claims.email, email_verified: verified, name: claims.name })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? env.IDP_ISSUER!)
    .setAudience(options.audience ?? env.IDP_AUDIENCE!)
    .setSubject(claims.sub ?? `idp|${crypto.randomUUID()}`);
  if (options.iat !== null) jwt.setIssuedAt(options.iat);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? options.expiresIn ?? '10m');
  return jwt.sign(await importJWK(key, 'ES256'));
}
