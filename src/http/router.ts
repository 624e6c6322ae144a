/**
 * The HTTP surface: routes in SPEC §3 order, each a thin handler that reads the request, calls a
 * service with the request's context and formats the result. No handler knows a status code for an
 * error; they throw domain errors and `app.ts` turns them into responses.
 */
import { type IRequest, Router } from 'itty-router';
import { requireActor } from '../actor/require.ts';
import { loadActorKeys } from '../actor/tokens/keys.ts';
import { type Context, withActor } from '../context.ts';
import {
  AddMember,
  AuditQuery,
  ChangeMember,
  CreateApiKey,
  CreateDocument,
  CreateExport,
  CreateOrganization,
  grantSchema,
  ListDocuments,
  UpdateDocument,
} from '../contract/requests.ts';
import { NotFound } from '../errors.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../services/api-keys.ts';
import { listAuditEvents } from '../services/audit.ts';
import { exchangeToken } from '../services/auth/exchange-token.ts';
import { actorView } from '../services/auth/views.ts';
import { endDelegation, listDelegations } from '../services/delegations.ts';
import { createDocument, deleteDocument, listDocuments, readDocument, updateDocument } from '../services/documents.ts';
import { createExport } from '../services/exports.ts';
import { readJob } from '../services/jobs.ts';
import { listMyOrganizations } from '../services/me.ts';
import { addMember, changeMemberRole, listMembers, removeMember } from '../services/members.ts';
import { readWorkflow, requestOrganizationDeletion } from '../services/organization-deletion.ts';
import { createOrganization } from '../services/organizations.ts';
import { readPublicDocument } from '../services/public-documents.ts';
import { json, readJson, readOptionalJson } from './json.ts';
import { openApiDocument } from './openapi/document.ts';
import { NoQuery, readQuery } from './query.ts';
import { limitOrganizationCreation, limitTokenExchange } from './rate-limit.ts';
import { openRoom } from './rooms.ts';
import { refuseUncleanUrl } from './url-text.ts';

const created = (body: unknown) => json(body, { status: 201 });
const noContent = () => new Response(null, { status: 204 });
const param = (request: IRequest, name: string) => request.params[name] ?? '';

export const router = Router<IRequest, [Context]>({ before: [refuseUncleanUrl] })
  .get('/health', () => json({ status: 'ok' }))
  .get('/openapi.json', (request) => json(openApiDocument(new URL(request.url).origin)))
  .get('/.well-known/jwks.json', async (_request, ctx) => {
    const keys = await loadActorKeys(ctx.env.ACTOR_SIGNING_KEYS);
    return json(keys.jwks, { headers: { 'cache-control': 'public, max-age=300' } });
  })
  .post('/v1/auth/token', async (request, ctx) => {
    await limitTokenExchange(request, ctx.env.AUTH_RATE_LIMIT);
    const grant = await readJson(request, grantSchema(ctx.env.ENVIRONMENT));
    return json(await exchangeToken(ctx, grant), { headers: { 'cache-control': 'no-store' } });
  })
  .get('/v1/me', (_request, ctx) => json({ actor: actorView(ctx.actor) }))
  .get('/v1/me/orgs', async (_request, ctx) => {
    const user = requireActor(ctx, { type: 'user' });
    return json({ organizations: await listMyOrganizations(withActor(ctx, user)) });
  })
  .post('/v1/orgs', async (request, ctx) => {
    const user = requireActor(ctx, { type: 'user' });
    await limitOrganizationCreation(user.id, ctx.env.ORG_CREATE_RATE_LIMIT);
    const input = await readJson(request, CreateOrganization);
    return created(await createOrganization(withActor(ctx, user), input));
  })
  .delete('/v1/orgs/current', async (request, ctx) => {
    readQuery(request, NoQuery);
    return json(await requestOrganizationDeletion(ctx, undefined), { status: 202 });
  })
  .get('/v1/workflows/:id', async (request, ctx) => {
    const user = requireActor(ctx, { type: 'user' });
    return json({ workflow: await readWorkflow({ db: ctx.db, actor: user }, param(request, 'id')) });
  })
  .get('/v1/members', async (request, ctx) => {
    readQuery(request, NoQuery);
    return json({ members: await listMembers(ctx, undefined) });
  })
  .post('/v1/members', async (request, ctx) => {
    return created({ member: await addMember(ctx, await readJson(request, AddMember)) });
  })
  .patch('/v1/members/:userId', async (request, ctx) => {
    const input = await readJson(request, ChangeMember);
    return json({ member: await changeMemberRole(ctx, { userId: param(request, 'userId'), ...input }) });
  })
  .delete('/v1/members/:userId', async (request, ctx) => {
    await removeMember(ctx, param(request, 'userId'));
    return noContent();
  })
  .get('/v1/documents', async (request, ctx) => json(await listDocuments(ctx, readQuery(request, ListDocuments))))
  .post('/v1/documents', async (request, ctx) => {
    return created({ document: await createDocument(ctx, await readJson(request, CreateDocument)) });
  })
  .get('/v1/documents/:id', async (request, ctx) => json({ document: await readDocument(ctx, param(request, 'id')) }))
  .patch('/v1/documents/:id', async (request, ctx) => {
    const input = await readJson(request, UpdateDocument);
    return json({ document: await updateDocument(ctx, { id: param(request, 'id'), ...input }) });
  })
  .delete('/v1/documents/:id', async (request, ctx) => {
    await deleteDocument(ctx, param(request, 'id'));
    return noContent();
  })
  .post('/v1/documents/:id/exports', async (request, ctx) => {
    await readOptionalJson(request, CreateExport);
    return json({ job: await createExport(ctx, param(request, 'id')) }, { status: 202 });
  })
  .get('/v1/jobs/:id', async (request, ctx) => json({ job: await readJob(ctx, param(request, 'id')) }))
  .get('/v1/rooms/:documentId', openRoom)
  .get('/v1/public/documents/:id', async (request, ctx) => {
    const document = await readPublicDocument(
      ctx.db,
      { type: ctx.actor.type, id: ctx.requestId },
      param(request, 'id'),
    );
    return json({ document });
  })
  .post('/v1/api-keys', async (request, ctx) => created(await createApiKey(ctx, await readJson(request, CreateApiKey))))
  .get('/v1/api-keys', async (request, ctx) => {
    readQuery(request, NoQuery);
    return json({ apiKeys: await listApiKeys(ctx, undefined) });
  })
  .delete('/v1/api-keys/:id', async (request, ctx) => {
    await revokeApiKey(ctx, param(request, 'id'));
    return noContent();
  })
  .get('/v1/audit', async (request, ctx) => json(await listAuditEvents(ctx, readQuery(request, AuditQuery))))
  .get('/v1/delegations', async (request, ctx) => {
    readQuery(request, NoQuery);
    return json({ delegations: await listDelegations(ctx, undefined) });
  })
  .delete('/v1/delegations/:id', async (request, ctx) => {
    await endDelegation(ctx, param(request, 'id'));
    return noContent();
  })
  .all('*', () => {
    throw new NotFound('No such route.');
  });

/**
 * The route a request is for, by the router's own table, whether or not it got that far: a request
 * refused before routing (an expired token, say) is still logged with its route. `undefined` when no
 * route but the catch-all matches.
 */
export function routeOf(request: Request): string | undefined {
  const { pathname } = new URL(request.url);
  for (const [method, pattern, , path] of router.routes) {
    if (path === '*') continue;
    if ((method === request.method || method === 'ALL') && pattern.test(pathname)) return path;
  }
  return undefined;
}
