/**
 * The claim set's text: `verifyActorToken` reads an all-ASCII claim set straight from its bytes and sends
 * any other through the strict UTF-8 decoder (src/actor/tokens/verify.ts `decodeJsonObject`). Valid UTF-8
 * of any kind decodes exactly; bytes that are not UTF-8 are refused, as before the fast path.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { base64url, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyActorToken } from '../../../src/actor/tokens/verify.ts';
import { keys, privateSigningJwks, validClaims, validHeader } from '../../support/actors.ts';

const options = () => ({ issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE });

/** A token over exactly these claim-set bytes, signed with the current key. */
async function tokenOver(payload: Uint8Array): Promise<string> {
  const jwk = privateSigningJwks()[0]!;
  const key = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
  const input = `${base64url.encode(JSON.stringify(validHeader()))}.${base64url.encode(payload)}`;
  const signature = await crypto.subtle.sign('Ed25519', key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** The claim set's JSON with `sid` spliced in as raw bytes (`"sid":"<bytes>"`). */
function withRawSid(sid: Uint8Array): Uint8Array {
  const json = JSON.stringify(validClaims({ sid: '\u0000' }));
  const [before, after] = json.split('\\u0000') as [string, string];
  const encoder = new TextEncoder();
  return new Uint8Array([...encoder.encode(before), ...sid, ...encoder.encode(after)]);
}

async function outcome(token: string): Promise<string> {
  try {
    return `OK ${(await verifyActorToken(token, await keys(), options())).type}`;
  } catch (error) {
    return (error as { code?: string }).code ?? 'THREW';
  }
}

describe('verifyActorToken reads the claim set as strict UTF-8', () => {
  it('decodes any valid UTF-8 exactly (ASCII or not)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), async (sid) => {
        const token = await tokenOver(new TextEncoder().encode(JSON.stringify(validClaims({ sid }))));
        const actor = await verifyActorToken(token, await keys(), options());
        expect(actor.type === 'user' && actor.sessionId).toBe(sid);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses bytes that are not UTF-8 inside a claim', async () => {
    const invalid = [
      [0xff], // never a UTF-8 byte
      [0xc3, 0x28], // a lead byte without its continuation
      [0xed, 0xa0, 0x80], // an encoded surrogate (CESU-8)
      [0xc0, 0xaf], // an overlong '/'
      [0x80], // a lone continuation byte
    ];
    for (const bytes of invalid) {
      expect(await outcome(await tokenOver(withRawSid(new Uint8Array([0x61, ...bytes]))))).toBe('INVALID_TOKEN');
    }
  });

  it('agrees with a strict decoder for any bytes spliced into a claim', async () => {
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 12 }), async (bytes) => {
        let expected: string;
        try {
          const claims = JSON.parse(strict.decode(withRawSid(bytes))) as { sid: string };
          expected = claims.sid.length > 0 && claims.sid.length <= 128 ? 'OK user' : 'INVALID_TOKEN';
        } catch {
          expected = 'INVALID_TOKEN';
        }
        expect(await outcome(await tokenOver(withRawSid(bytes)))).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});
