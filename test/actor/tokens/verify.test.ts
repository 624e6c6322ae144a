import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyActorToken } from '../../../src/actor/tokens/verify.ts';
import { craftToken, keys, validClaims, validHeader } from '../../support/actors.ts';

const BASE = 1_900_000_000; // a fixed "now", in seconds
const options = (now = BASE) => ({ issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE, now });

async function outcome(token: string, now = BASE): Promise<string> {
  try {
    await verifyActorToken(token, await keys(), options(now));
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? 'THREW';
  }
}

/** SPEC §2 as a model: expiry with 30 s tolerance, lifetime ≤ 1 h, iat neither too old nor in the future. */
function expected(iat: number, exp: number, now: number): string {
  if (exp <= now - 30) return 'TOKEN_EXPIRED';
  if (now - iat - 30 > 3600) return 'INVALID_TOKEN';
  if (now - iat < -30) return 'INVALID_TOKEN';
  if (exp <= iat || exp - iat > 3600) return 'INVALID_TOKEN';
  return 'OK';
}

describe('verifyActorToken around the time boundaries', () => {
  it('agrees with the model for any iat, lifetime and clock', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -7300, max: 200 }),
        fc.integer({ min: 1, max: 7300 }),
        async (iatOffset, lifetime) => {
          const iat = BASE + iatOffset;
          const exp = iat + lifetime;
          const token = await craftToken(validHeader(), validClaims({ iat, exp }));
          expect(await outcome(token)).toBe(expected(iat, exp, BASE));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is exact at the expiry edge: valid up to exp + 29 s, expired from exp + 30 s', async () => {
    const token = await craftToken(validHeader(), validClaims({ iat: BASE - 600, exp: BASE }));
    expect(await outcome(token, BASE + 29)).toBe('OK');
    expect(await outcome(token, BASE + 30)).toBe('TOKEN_EXPIRED');
  });

  it('caps clock tolerance at 30 s whatever the caller asks', async () => {
    const token = await craftToken(validHeader(), validClaims({ iat: BASE - 600, exp: BASE }));
    await expect(
      verifyActorToken(token, await keys(), { ...options(BASE + 60), clockToleranceSeconds: 3600 }),
    ).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });
});

describe('a forged token never reaches claim checks', () => {
  it('is INVALID_TOKEN whatever its claims say (expired, future, malformed)', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const attacker = await exportJWK(privateKey);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          iat: fc.oneof(fc.integer({ min: BASE - 100_000, max: BASE + 100_000 }), fc.string()),
          exp: fc.oneof(fc.integer({ min: BASE - 100_000, max: BASE + 100_000 }), fc.constant(undefined)),
          act: fc.constantFrom('user', 'service', 'system', undefined),
          iss: fc.constantFrom(env.ACTOR_ISSUER, 'https://evil.example'),
        }),
        async (claims) => {
          // Were claims checked before the signature, an expired forged token would say TOKEN_EXPIRED.
          const token = await craftToken(validHeader(), validClaims(claims), attacker);
          expect(await outcome(token)).toBe('INVALID_TOKEN');
        },
      ),
      { numRuns: 200 },
    );
  });
});
