/**
 * Credentials → actor, for every request before routing. No `Authorization` header → a guest.
 * `Bearer <token>` → a verified, unrevoked Signet token actor. `<Scheme> <credential>` of a custom actor
 * type's registration (`actor/registry.ts`) → that type's verifier. Anything else present → 401 with the
 * SPEC's code (never a silent guest). Credentials are never logged or echoed.
 */
import type { Actor } from '../actor/actor.ts';
import { credentialScheme } from '../actor/registry.ts';
import type { Database } from '../db/client.ts';
import type { Env } from '../env.ts';
import { InvalidToken } from '../errors.ts';
import { resolveBearer } from '../identity/resolve-bearer.ts';

const CREDENTIALS = /^([A-Za-z][A-Za-z0-9-]{0,31}) +([^\s]+) *$/;

export async function authenticate(request: Request, env: Env, requestId: string, db: () => Database): Promise<Actor> {
  const header = request.headers.get('authorization');
  if (header === null) return { type: 'guest', requestId };
  const match = CREDENTIALS.exec(header);
  if (!match) throw new InvalidToken();
  const [, scheme, credential] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() === 'bearer') return resolveBearer(credential, env, db);
  const custom = credentialScheme(scheme)?.credential;
  if (!custom) throw new InvalidToken();
  return custom.verify(credential, env);
}
