/**
 * `.dev.vars` (git-ignored) holds local secrets for `wrangler dev`. The first `npm run dev` generates an
 * Ed25519 signing key set into it (SPEC §5); later runs keep it, so tokens survive restarts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair } from 'jose';

export function readDevVars(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) {
      value = value.slice(1, -1);
    }
    vars[match[1]!] = value;
  }
  return vars;
}

/** A fresh JWK Set of one private signing key (Ed25519 by default), with a dated `kid`. */
export async function generateSigningKeySet(alg: 'EdDSA' | 'ES256' = 'EdDSA'): Promise<string> {
  const { privateKey } =
    alg === 'EdDSA'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = `${alg === 'EdDSA' ? 'ed' : 'es'}-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  return JSON.stringify({ keys: [{ ...jwk, kid, alg, use: 'sig' }] });
}

/** Returns the signing key set, generating and saving one when `.dev.vars` has none. */
export async function ensureDevSigningKeys(path: string): Promise<{ keys: string; generated: boolean }> {
  const existing = readDevVars(path).ACTOR_SIGNING_KEYS;
  if (existing) return { keys: existing, generated: false };
  const keys = await generateSigningKeySet();
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const separator = before === '' || before.endsWith('\n') ? '' : '\n';
  writeFileSync(path, `${before}${separator}ACTOR_SIGNING_KEYS='${keys}'\n`, { mode: 0o600 });
  return { keys, generated: true };
}
