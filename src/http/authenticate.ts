/**
 * Credentials → actor, for every request before routing. No `Authorization` header → a guest. A header
 * that is present but not a valid, unrevoked Signet token → 401 with the SPEC's code (never a silent
 * guest). Tokens are never logged or echoed.
 */
import type { Actor } from '../actor/actor.ts';
import type { Database } from '../db/client.ts';
import type { Env } from '../env.ts';
import { InvalidToken } from '../errors.ts';
import { resolveBearer } from '../services/resolve-bearer.ts';

const BEARER = /^Bearer +([^\s]+) *$/i;

export async function authenticate(request: Request, env: Env, requestId: string, db: () => Database): Promise<Actor> {
  const header = request.headers.get('authorization');
  if (header === null) return { type: 'guest', requestId };
  const match = BEARER.exec(header);
  if (!match) throw new InvalidToken();
  return resolveBearer(match[1]!, env, db);
}
