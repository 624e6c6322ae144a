/**
 * `verifyActorToken` checks a token directly on WebCrypto (for speed, see `npm run bench`); this suite
 * holds it to jose: for headers, claims and signatures varied at random, it reaches the same outcome as
 * the jose `jwtVerify` call it replaced (same options, same header pre-checks, same error mapping), plus
 * the lifetime check that follows it.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import {
  base64url,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
} from 'jose';
import { describe, expect, it } from 'vitest';
import type { ActorKeys } from '../../../src/actor/tokens/keys.ts';
import { verifyActorToken } from '../../../src/actor/tokens/verify.ts';
import { keys, privateSigningJwks } from '../../support/actors.ts';

const NOW = 1_900_000_000;

/** The verification `verifyActorToken` did with jose before, as the reference. */
async function joseOutcome(token: string, actorKeys: ActorKeys): Promise<string> {
  if (token.length > 4096 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return 'INVALID_TOKEN';
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return 'INVALID_TOKEN';
  }
  if (header.crit !== undefined || header.b64 !== undefined) return 'INVALID_TOKEN';
  const key = typeof header.kid === 'string' ? actorKeys.verifying.get(header.kid) : undefined;
  if (!key || header.alg !== key.alg) return 'INVALID_TOKEN';
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      typ: 'actor+jwt',
      issuer: env.ACTOR_ISSUER,
      audience: env.ACTOR_AUDIENCE,
      requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'],
      maxTokenAge: 3600,
      clockTolerance: 30,
      currentDate: new Date(NOW * 1000),
    });
    const { iat, exp } = payload as { iat: number; exp: number };
    return exp <= iat || exp - iat > 3600 ? 'INVALID_TOKEN' : 'OK';
  } catch (error) {
    if (error instanceof errors.JWTExpired && error.claim === 'exp') return 'TOKEN_EXPIRED';
    return 'INVALID_TOKEN';
  }
}

async function ourOutcome(token: string, actorKeys: ActorKeys): Promise<string> {
  try {
    await verifyActorToken(token, actorKeys, { issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE, now: NOW });
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? 'THREW';
  }
}

/** Signs any header and claims (jose's signer refuses some headers, e.g. `crit`). */
async function sign(header: Record<string, unknown>, claims: Record<string, unknown>, jwk: JWK): Promise<string> {
  const es256 = jwk.crv === 'P-256';
  const key = (await importJWK(jwk, es256 ? 'ES256' : 'EdDSA')) as CryptoKey;
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const input = `${encode(header)}.${encode(claims)}`;
  const algorithm = es256 ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
  const signature = await crypto.subtle.sign(algorithm, key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

const absent = fc.constant(undefined);
/** Usually the valid value, so that whole tokens are often valid and each field also varies alone. */
function mostly<T>(valid: T, ...others: T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 8, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
}
function time(valid: fc.Arbitrary<number>, edges: fc.Arbitrary<number>) {
  return fc.oneof(
    { weight: 6, arbitrary: valid.map((o) => NOW + o) },
    { weight: 3, arbitrary: edges.map((o) => NOW + o) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('soon', undefined) },
  );
}

describe('verifyActorToken agrees with jose', () => {
  it('on random headers, claims and signers', async () => {
    const actorKeys = await keys();
    const [ours, previous] = privateSigningJwks();
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const attacker = await exportJWK(privateKey);
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          signer: mostly('ours', 'previous', 'attacker'),
          alg: mostly<unknown>('own', 'EdDSA', 'ES256', 'HS256', 'none', undefined),
          kid: mostly<unknown>('ours', 'previous', 'unknown', 7, undefined),
          typ: mostly<unknown>(
            'actor+jwt',
            'ACTOR+JWT',
            'application/actor+jwt',
            'Application/Actor+JWT',
            'JWT',
            1,
            undefined,
          ),
          extra: mostly<Record<string, unknown>>(
            {},
            { crit: ['exp'] },
            { b64: true },
            { jwk: { kty: 'OKP' } },
            { cty: 'x' },
          ),
          iss: mostly<unknown>(env.ACTOR_ISSUER, 'https://evil.example', undefined),
          aud: mostly<unknown>(env.ACTOR_AUDIENCE, [env.ACTOR_AUDIENCE, 'other'], ['other'], 'other', 7, undefined),
          iat: time(fc.integer({ min: -600, max: 0 }), fc.integer({ min: -3700, max: 100 })),
          exp: time(fc.integer({ min: 60, max: 900 }), fc.integer({ min: -100, max: 3700 })),
          nbf: fc.oneof(
            { weight: 4, arbitrary: absent },
            { weight: 1, arbitrary: time(fc.integer({ min: -60, max: 0 }), fc.integer({ min: -60, max: 60 })) },
          ),
          jti: mostly<unknown>('j-1', undefined),
          sub: mostly<unknown>('7e0a1d7c-7d51-4a7e-9c39-32f2a2ab6d01', undefined),
          tamper: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        }),
        async (c) => {
          const jwk = c.signer === 'ours' ? ours! : c.signer === 'previous' ? previous! : attacker;
          const header: Record<string, unknown> = {
            alg: c.alg === 'own' ? (jwk.alg ?? 'EdDSA') : c.alg,
            kid: c.kid === 'ours' ? ours!.kid : c.kid === 'previous' ? previous!.kid : c.kid,
            typ: c.typ,
            ...c.extra,
          };
          const claims: Record<string, unknown> = {
            iss: c.iss,
            aud: c.aud,
            sub: c.sub,
            iat: c.iat,
            exp: c.exp,
            nbf: c.nbf,
            jti: c.jti,
            actor_type: 'user',
            sid: 's-1',
          };
          let token = await sign(header, claims, jwk);
          if (c.tamper) token = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`;
          const expected = await joseOutcome(token, actorKeys);
          outcomes.set(expected, (outcomes.get(expected) ?? 0) + 1);
          expect(await ourOutcome(token, actorKeys)).toBe(expected);
        },
      ),
      { numRuns: 600 },
    );
    // The generator reaches every outcome, not only refusals.
    expect([...outcomes.keys()].sort()).toEqual(['INVALID_TOKEN', 'OK', 'TOKEN_EXPIRED']);
  });

  it('diverges on purpose: a non-canonical spelling of a valid signature verifies with jose, not with us', async () => {
    const actorKeys = await keys();
    const [ours] = privateSigningJwks();
    const claims = { iss: env.ACTOR_ISSUER, aud: env.ACTOR_AUDIENCE, sub: '7e0a1d7c-7d51-4a7e-9c39-32f2a2ab6d01' };
    const token = await sign(
      { alg: ours!.alg ?? 'EdDSA', kid: ours!.kid, typ: 'actor+jwt' },
      { ...claims, iat: NOW, exp: NOW + 600, jti: 'j-1', actor_type: 'user', sid: 's-1' },
      ours!,
    );
    expect(await ourOutcome(token, actorKeys)).toBe('OK');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const signature = token.slice(token.lastIndexOf('.') + 1);
    expect(signature.length % 4).toBe(2); // 64 bytes: the last character carries 4 unused bits
    const respelled = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1)!) | 0b1111]}`;
    expect(respelled).not.toBe(token);
    expect(await joseOutcome(respelled, actorKeys)).toBe('OK');
    expect(await ourOutcome(respelled, actorKeys)).toBe('INVALID_TOKEN');
  });
});
