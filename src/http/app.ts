/**
 * The Worker's `fetch`: gives every request an id, runs the router, turns any thrown error into the
 * SPEC's envelope, and stamps `x-request-id` on every response.
 */
import type { Env } from '../env.ts';
import { errorResponse } from './error-response.ts';
import { router } from './router.ts';

export async function handleFetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const requestId = crypto.randomUUID();
  let response: Response;
  try {
    response = (await router.fetch(request, env, ctx, { requestId })) as Response;
  } catch (error) {
    response = errorResponse(error, requestId);
  }
  // WebSocket upgrades (101) carry an immutable header list; everything else is copied once.
  if (response.status === 101) return response;
  const stamped = new Response(response.body, response);
  stamped.headers.set('x-request-id', requestId);
  return stamped;
}
