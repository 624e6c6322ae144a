/**
 * Strict base64url for the segments of a compact JWS (RFC 7515 §2, RFC 4648 §5): unpadded, the
 * URL-safe alphabet only, and canonical — the unused low bits of the last character zero — so each
 * byte string has exactly one spelling. No whitespace, no padding, no `+` or `/`: anything else is
 * refused, not repaired.
 *
 * The signature decoder is plain JavaScript over the token's characters rather than `atob` or
 * `Uint8Array.fromBase64`: for a 64-byte signature each of those is a call into the runtime that cost
 * workerd about twice the loop's time (`npm run bench`, `actor.verify_overhead_ratio`).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Character code (below 128) → its 6 bits; -1 for every code outside the alphabet. */
const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

/**
 * Whether an unpadded base64url segment (alphabet already checked) is the one canonical spelling of its
 * bytes (RFC 4648 §3.5): a length that is not 1 mod 4, and a last character whose unused low bits — 4 of
 * them after 2 leftover characters, 2 after 3 — are zero. O(1): no decoding.
 *
 * @example
 * isCanonicalBase64url('AQ') // true: one byte, 0x01
 * isCanonicalBase64url('AR') // false: the same byte with an unused bit set
 */
export function isCanonicalBase64url(segment: string): boolean {
  const leftover = segment.length % 4;
  if (leftover === 0) return true;
  if (leftover === 1) return false;
  const last = sextet(segment, segment.length - 1);
  return last >= 0 && (last & (leftover === 2 ? 0b1111 : 0b11)) === 0;
}

/**
 * The bytes of `text.slice(start, end)` read as canonical unpadded base64url, or `undefined` when that
 * is not what it is (a character outside the alphabet, a length of 1 mod 4, unused bits set, nothing at
 * all).
 *
 * @example
 * decodeBase64url('x.AQID.y', 2, 6) // Uint8Array [1, 2, 3]
 * decodeBase64url('AQI=', 0, 4) // undefined: padding
 */
export function decodeBase64url(text: string, start = 0, end = text.length): Uint8Array<ArrayBuffer> | undefined {
  const length = end - start;
  const leftover = length & 3;
  if (length <= 0 || leftover === 1) return undefined;
  const bytes = new Uint8Array((length * 3) >> 2);
  const whole = end - leftover;
  let out = 0;
  for (let i = start; i < whole; i += 4) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = sextet(text, i + 2);
    const d = sextet(text, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[out++] = bits >> 16;
    bytes[out++] = (bits >> 8) & 0xff;
    bytes[out++] = bits & 0xff;
  }
  if (leftover === 2) {
    const a = sextet(text, whole);
    const b = sextet(text, whole + 1);
    if ((a | b) < 0 || (b & 0b1111) !== 0) return undefined;
    bytes[out] = (a << 2) | (b >> 4);
  } else if (leftover === 3) {
    const a = sextet(text, whole);
    const b = sextet(text, whole + 1);
    const c = sextet(text, whole + 2);
    if ((a | b | c) < 0 || (c & 0b11) !== 0) return undefined;
    bytes[out] = (a << 2) | (b >> 4);
    bytes[out + 1] = ((b & 0xf) << 4) | (c >> 2);
  }
  return bytes;
}

/** The 6 bits of the character at `i`, or -1 when it is not a base64url character. */
function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  return code < 128 ? SEXTETS[code]! : -1;
}
