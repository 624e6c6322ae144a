/**
 * `npm run -s signing-key [-- ES256]`: prints a new private signing key set (a JWK Set with one key, its
 * `kid` and `alg`) on stdout, for `ACTOR_SIGNING_KEYS` (docs/deploy.md): EdDSA (Ed25519) unless ES256 is
 * asked for. It is never written anywhere else; pipe it straight into `wrangler secret put`.
 */
import { generateSigningKeySet } from './lib/dev-vars.ts';

const [alg = 'EdDSA', ...rest] = process.argv.slice(2);
if (rest.length > 0 || (alg !== 'EdDSA' && alg !== 'ES256')) {
  console.error('usage: npm run -s signing-key [-- EdDSA|ES256]');
  process.exit(1);
}
console.log(await generateSigningKeySet(alg));
