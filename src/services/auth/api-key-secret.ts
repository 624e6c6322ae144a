/** API key secrets: shown once, stored only as a SHA-256 hash. */
import { base64url } from 'jose';

const PREFIX = 'sgk_';

/** `sgk_` and 32 random bytes in unpadded base64url (43 characters). */
export function newApiKeySecret(): string {
  return PREFIX + base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}

export async function hashApiKeySecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function looksLikeApiKeySecret(value: string): boolean {
  return value.startsWith(PREFIX) && value.length === PREFIX.length + 43;
}
