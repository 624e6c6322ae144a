/**
 * The compact serialization's structure (src/actor/tokens/verify.ts): exactly three non-empty segments of
 * base64url characters, each checked by what reads it — the payload before the signature, a new protected
 * header before it is decoded (a known one is the same string), the signature by its strict decoder. A
 * segment that `atob` would still read (`+`, `/`, padding, whitespace) is refused even when it carries a
 * valid signature over exactly those characters.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { base64url, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyActorToken } from '../../../src/actor/tokens/verify.ts';
import { keys, privateSigningJwks, signedToken, userSubject, validClaims, validHeader } from '../../support/actors.ts';

const options = () => ({ issuer: env.ACTOR_ISSUER, audience: env.ACTOR_AUDIENCE });
const OUTSIDE = ['+', '/', '=', ' ', '\t', '\n', '.', '%', 'é', '\u0000', '😀'];

async function outcome(token: string): Promise<string> {
  try {
    await verifyActorToken(token, await keys(), options());
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? 'THREW';
  }
}

/** A token over exactly these header and payload segments, validly signed with the current key. */
async function signedOver(header: string, payload: string): Promise<string> {
  const key = (await importJWK(privateSigningJwks()[0]!, 'EdDSA')) as CryptoKey;
  const input = `${header}.${payload}`;
  const signature = await crypto.subtle.sign('Ed25519', key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

describe('verifyActorToken reads only three base64url segments', () => {
  it('refuses a character outside base64url anywhere, and an empty segment', async () => {
    const token = await signedToken(userSubject());
    expect(await outcome(token)).toBe('OK');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom(...OUTSIDE), async (at, bad) => {
        if (token[at] === '.') return;
        expect(await outcome(`${token.slice(0, at)}${bad}${token.slice(at + 1)}`)).toBe('INVALID_TOKEN');
        expect(await outcome(`${token.slice(0, at)}${bad}${token.slice(at)}`)).toBe('INVALID_TOKEN');
      }),
      { numRuns: 300 },
    );
    const [h, p, s] = token.split('.') as [string, string, string];
    for (const broken of [`.${p}.${s}`, `${h}..${s}`, `${h}.${p}.`, '..', `${h}.${p}`, `${token}.`, `.${token}`]) {
      expect(await outcome(broken)).toBe('INVALID_TOKEN');
    }
  });

  it('refuses a validly signed payload or header that atob would read but base64url does not allow', async () => {
    const header = base64url.encode(JSON.stringify(validHeader()));
    const payload = base64url.encode(JSON.stringify(validClaims()));
    expect(await outcome(await signedOver(header, payload))).toBe('OK');
    const spellings = (segment: string) => [
      `${segment} `,
      ` ${segment}`,
      `${segment.slice(0, 4)}\n${segment.slice(4)}`,
      segment.replaceAll('-', '+').replaceAll('_', '/'),
      `${segment}${'='.repeat((4 - (segment.length % 4)) % 4 || 4)}`,
    ];
    for (const odd of spellings(payload).filter((s) => s !== payload)) {
      expect(await outcome(await signedOver(header, odd))).toBe('INVALID_TOKEN');
    }
    for (const odd of spellings(header).filter((s) => s !== header)) {
      expect(await outcome(await signedOver(odd, payload))).toBe('INVALID_TOKEN');
    }
  });
});
