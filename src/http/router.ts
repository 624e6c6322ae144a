/**
 * The HTTP surface: routes in SPEC §3 order, each a thin handler that reads the request, calls a
 * service and formats its result. No handler knows a status code for an error; they throw domain
 * errors and `app.ts` turns them into responses.
 */
import { Router } from 'itty-router';
import { openDatabase } from '../db/client.ts';
import type { Env } from '../env.ts';
import { NotFound } from '../errors.ts';
import { readPublicDocument } from '../services/public-documents.ts';
import { json } from './json.ts';

export interface RequestState {
  readonly requestId: string;
}

export type RouteArgs = [env: Env, ctx: ExecutionContext, state: RequestState];

export const router = Router<import('itty-router').IRequest, RouteArgs>()
  .get('/health', () => json({ status: 'ok' }))
  .get('/v1/public/documents/:id', async (request, env, _ctx, state) => {
    const document = await readPublicDocument(
      openDatabase(env),
      { type: 'guest', id: state.requestId },
      request.params.id ?? '',
    );
    return json({ document });
  })
  .all('*', () => {
    throw new NotFound('No such route.');
  });
