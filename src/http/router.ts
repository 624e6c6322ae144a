/**
 * The HTTP surface: routes in SPEC §3 order, each a thin handler that reads the request, calls a
 * service with the request's context and formats the result. No handler knows a status code for an
 * error; they throw domain errors and `app.ts` turns them into responses.
 */
import { type IRequest, Router } from 'itty-router';
import { requireActor } from '../actor/require.ts';
import { loadActorKeys } from '../actor/tokens/keys.ts';
import { type Context, withActor } from '../context.ts';
import { NotFound } from '../errors.ts';
import { exchangeToken, grantSchema } from '../services/auth/exchange-token.ts';
import { actorView } from '../services/auth/views.ts';
import { listMyOrganizations } from '../services/me.ts';
import { readPublicDocument } from '../services/public-documents.ts';
import { json, readJson } from './json.ts';

export const router = Router<IRequest, [Context]>()
  .get('/health', () => json({ status: 'ok' }))
  .get('/.well-known/jwks.json', async (_request, ctx) => {
    const keys = await loadActorKeys(ctx.env.ACTOR_SIGNING_KEYS);
    return json(keys.jwks, { headers: { 'cache-control': 'public, max-age=300' } });
  })
  .post('/v1/auth/token', async (request, ctx) => {
    const grant = await readJson(request, grantSchema(ctx.env.ENVIRONMENT));
    return json(await exchangeToken(ctx, grant), { headers: { 'cache-control': 'no-store' } });
  })
  .get('/v1/me', (_request, ctx) => json({ actor: actorView(ctx.actor as Parameters<typeof actorView>[0]) }))
  .get('/v1/me/orgs', async (_request, ctx) => {
    const user = requireActor(ctx, { type: 'user' });
    return json({ organizations: await listMyOrganizations(withActor(ctx, user)) });
  })
  .get('/v1/public/documents/:id', async (request, ctx) => {
    const document = await readPublicDocument(
      ctx.db,
      { type: ctx.actor.type, id: ctx.requestId },
      request.params.id ?? '',
    );
    return json({ document });
  })
  .all('*', () => {
    throw new NotFound('No such route.');
  });
