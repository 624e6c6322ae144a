/**
 * The token's strict base64url (src/actor/tokens/base64url.ts): every canonical spelling decodes to the
 * bytes jose encoded, and nothing else decodes — no other character, no padding, no whitespace, no
 * spelling with unused bits set, no length of 1 mod 4.
 */
import fc from 'fast-check';
import { base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeBase64url, isCanonicalBase64url } from '../../../src/actor/tokens/base64url.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('decodeBase64url', () => {
  it('decodes what jose encodes, for any bytes and from any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.string({ maxLength: 5 }), (bytes, prefix) => {
        const encoded = base64url.encode(bytes);
        expect(isCanonicalBase64url(encoded)).toBe(true);
        if (bytes.length === 0) {
          expect(decodeBase64url(encoded)).toBeUndefined(); // an empty segment is no segment
          return;
        }
        expect(decodeBase64url(encoded)).toEqual(bytes);
        const text = `${prefix}.${encoded}.rest`;
        expect(decodeBase64url(text, prefix.length + 1, prefix.length + 1 + encoded.length)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses any character outside the alphabet, wherever it stands', () => {
    const outside = ['+', '/', '=', ' ', '\n', '\t', '.', '\u0000', 'é', '\u0141', '\ud83d', '😀'];
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom(...outside),
        (bytes, at, bad) => {
          const encoded = base64url.encode(bytes);
          const i = at % encoded.length;
          const replaced = `${encoded.slice(0, i)}${bad}${encoded.slice(i + 1)}`;
          expect(decodeBase64url(replaced)).toBeUndefined();
          const inserted = `${encoded.slice(0, i)}${bad}${encoded.slice(i)}`;
          expect(decodeBase64url(inserted)).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses padding and every non-canonical spelling of the last character', () => {
    expect(decodeBase64url('AQ==')).toBeUndefined();
    expect(decodeBase64url('AQI=')).toBeUndefined();
    expect(decodeBase64url('A')).toBeUndefined();
    expect(decodeBase64url('AQIDB')).toBeUndefined();
    expect(decodeBase64url('')).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 15 }), (bytes, bits) => {
        const encoded = base64url.encode(bytes);
        const leftover = encoded.length % 4;
        if (leftover === 0) return;
        const unused = leftover === 2 ? 0b1111 : 0b11;
        if ((bits & unused) === 0) return;
        const last = ALPHABET.indexOf(encoded.at(-1)!);
        const respelled = `${encoded.slice(0, -1)}${ALPHABET[last | (bits & unused)]}`;
        expect(isCanonicalBase64url(respelled)).toBe(false);
        expect(decodeBase64url(respelled)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('reads the signature of a real-sized token exactly (64 bytes: 86 characters, 4 unused bits)', () => {
    const signature = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
    const encoded = base64url.encode(signature);
    expect(encoded).toHaveLength(86);
    expect(decodeBase64url(`h.p.${encoded}`, 4)).toEqual(signature);
  });
});
