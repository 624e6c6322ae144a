/** API key secrets: shown once, stored only as a SHA-256 hash. */

const PREFIX = 'sgk_';

export function newApiKeySecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return (
    PREFIX +
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
  );
}

export async function hashApiKeySecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function looksLikeApiKeySecret(value: string): boolean {
  return value.startsWith(PREFIX) && value.length === PREFIX.length + 43;
}
