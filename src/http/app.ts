/**
 * The Worker's `fetch`: gives every request an id, resolves its actor, runs the router inside the
 * request's context (`createContext`, `runInContext`: every log line of the request names it), turns
 * any thrown error into the SPEC's envelope, and stamps `x-request-id` on every response.
 */

import type { Actor } from '../actor/actor.ts';
import { createContext, operationFields, runInContext } from '../context.ts';
import { type Database, openDatabase } from '../db/client.ts';
import type { Env } from '../env.ts';
import { log } from '../observability/log.ts';
import { authenticate } from './authenticate.ts';
import { allowedOrigins, isPreflight, preflight, withCors } from './cors.ts';
import { errorResponse } from './error-response.ts';
import { routeOf, router } from './router.ts';

/** One line per request: who, what, how it ended — never a token, a body or a query string. */
function logRequest(request: Request, status: number, requestId: string, actor: Actor | undefined, durationMs: number) {
  const route = (request as Request & { route?: string }).route ?? routeOf(request) ?? 'unmatched';
  log({
    level: status >= 500 ? 'error' : 'info',
    msg: 'request',
    ...(actor ? operationFields(actor, requestId) : { requestId, organizationId: null }),
    method: request.method,
    route,
    status,
    durationMs,
  });
}

export async function handleFetch(request: Request, env: Env, executionContext: ExecutionContext): Promise<Response> {
  const requestId = crypto.randomUUID();
  const started = Date.now();
  let actor: Actor | undefined;
  let database: Database | undefined;
  // Opened on first use: /health and the JWKS never need the database.
  const db = () => {
    database ??= openDatabase(env);
    return database;
  };
  let response: Response;
  const origins = allowedOrigins(env.CORS_ALLOWED_ORIGINS);
  try {
    // A CORS preflight is answered before any actor is resolved: browsers send it without credentials.
    if (isPreflight(request)) {
      (request as Request & { route?: string }).route = 'preflight';
      return finish(request, preflight(request, origins), requestId, undefined, started, origins);
    }
    actor = await authenticate(request, env, requestId, db);
    const ctx = createContext({ actor, requestId, env, db, exec: executionContext });
    // HEAD is GET without the body (RFC 9110 §9.3.2): the same route, status and headers — never an
    // upgrade (a HEAD must not join a room).
    const routed = request.method === 'HEAD' ? headAsGet(request) : request;
    response = (await runInContext(ctx, () => router.fetch(routed, ctx))) as Response;
    if (routed !== request) {
      response = new Response(null, response);
      (request as Request & { route?: string }).route = routeOf(routed);
    }
  } catch (error) {
    response = errorResponse(error, requestId);
  }
  return finish(request, response, requestId, actor, started, origins);
}

/** A HEAD request as the GET it asks about, without any `Upgrade`. */
function headAsGet(request: Request): Request {
  const headers = new Headers(request.headers);
  headers.delete('upgrade');
  return new Request(request.url, { method: 'GET', headers });
}

function finish(
  request: Request,
  response: Response,
  requestId: string,
  actor: Actor | undefined,
  started: number,
  origins: ReadonlySet<string>,
): Response {
  logRequest(request, response.status, requestId, actor, Date.now() - started);
  // WebSocket upgrades (101) carry an immutable header list and are passed on as they are.
  if (response.status === 101) return response;
  let stamped = response;
  try {
    stamped.headers.set('x-request-id', requestId);
  } catch {
    // A response that came from elsewhere (a fetch, a Durable Object) has immutable headers: copy it once.
    stamped = new Response(response.body, response);
    stamped.headers.set('x-request-id', requestId);
  }
  withCors(stamped.headers, request, origins);
  return stamped;
}
