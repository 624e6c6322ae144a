/**
 * Signet's own signing keys (`ACTOR_SIGNING_KEYS`, SPEC §2/§5): a JWK Set of private keys, each with a
 * `kid` and an `alg` from the allowlist. The first key signs; every key verifies, so a previous key
 * keeps verifying the tokens it signed while they live (rotation). Parsed once per isolate.
 */
import { importJWK, type JWK } from 'jose';

export const ACTOR_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type ActorAlgorithm = (typeof ACTOR_ALGORITHMS)[number];

export interface VerificationKey {
  readonly kid: string;
  readonly alg: ActorAlgorithm;
  readonly key: CryptoKey;
}

export interface ActorKeys {
  readonly signing: { readonly kid: string; readonly alg: ActorAlgorithm; readonly key: CryptoKey };
  readonly verifying: ReadonlyMap<string, VerificationKey>;
  /** Public keys only, for `GET /.well-known/jwks.json`. */
  readonly jwks: { readonly keys: readonly JWK[] };
}

/** A configuration problem: the operator's to fix, so it is a plain Error (a 500), never a client's 4xx. */
export class KeyConfigurationError extends Error {}

const loaded = new Map<string, Promise<ActorKeys>>();

/**
 * @example
 * const keys = await loadActorKeys(env.ACTOR_SIGNING_KEYS)
 * keys.jwks // { keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' }] }
 */
export function loadActorKeys(raw: string | undefined): Promise<ActorKeys> {
  if (!raw) return Promise.reject(new KeyConfigurationError('ACTOR_SIGNING_KEYS is not set'));
  let keys = loaded.get(raw);
  if (!keys) {
    keys = parseKeys(raw);
    keys.catch(() => loaded.delete(raw));
    loaded.set(raw, keys);
  }
  return keys;
}

async function parseKeys(raw: string): Promise<ActorKeys> {
  let set: unknown;
  try {
    set = JSON.parse(raw);
  } catch {
    throw new KeyConfigurationError('ACTOR_SIGNING_KEYS is not JSON');
  }
  const list = (set as { keys?: unknown })?.keys;
  if (!Array.isArray(list) || list.length === 0) {
    throw new KeyConfigurationError('ACTOR_SIGNING_KEYS must be a JWK Set with at least one key');
  }
  const verifying = new Map<string, VerificationKey>();
  const publicJwks: JWK[] = [];
  let signing: ActorKeys['signing'] | undefined;
  for (const entry of list as JWK[]) {
    const { kid, alg } = entry;
    if (typeof kid !== 'string' || kid === '' || verifying.has(kid)) {
      throw new KeyConfigurationError('every signing key needs a unique kid');
    }
    if (!(ACTOR_ALGORITHMS as readonly string[]).includes(alg ?? '')) {
      throw new KeyConfigurationError(`key ${kid}: alg must be one of ${ACTOR_ALGORITHMS.join(', ')}`);
    }
    if (typeof entry.d !== 'string') throw new KeyConfigurationError(`key ${kid} is not a private key`);
    const algorithm = alg as ActorAlgorithm;
    const publicJwk = publicPart(entry);
    const verifyKey = (await importJWK(publicJwk, algorithm)) as CryptoKey;
    verifying.set(kid, { kid, alg: algorithm, key: verifyKey });
    publicJwks.push(publicJwk);
    if (!signing) signing = { kid, alg: algorithm, key: (await importJWK(entry, algorithm)) as CryptoKey };
  }
  return { signing: signing!, verifying, jwks: { keys: publicJwks } };
}

function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, kid, alg } = jwk;
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, kid, alg, use: 'sig' }).filter(([, v]) => v !== undefined),
  ) as JWK;
}
