/**
 * Signet's HTTP API (SPEC §3/§4), one entry per route in SPEC order: method, path, who may call it,
 * the schemas of its query and body, its responses, and the action that supplies its permission
 * (`route.ts` says how an entry is read and answered). The router and `GET /openapi.json` are both built
 * from this table; adding a route is adding an entry. Handlers are thin: they call a service with the
 * request's context and return its result. None knows an error's status code: they throw domain errors
 * and `app.ts` turns them into responses.
 */
import * as z from 'zod';
import { loadActorKeys } from '../actor/tokens/keys.ts';
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
import * as S from '../contract/schemas.ts';
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
import { joinRoom } from '../services/rooms.ts';
import { openApiDocument } from './openapi/document.ts';
import { limitOrganizationCreation, limitTokenExchange } from './rate-limit.ts';
import { openRoom } from './rooms.ts';
import { type Route, route } from './route.ts';

// Any request that sends an `Authorization` header gets a 401 when it isn't a valid token, on every route.
const BAD_TOKEN = [401];
// Every refusal counts against the actor's refused attempts: past `DENIED_RATE_LIMIT`, 429 instead of 403.
const AUTH_ERRORS = [401, 403, 429];
const TENANT_ERRORS = [...AUTH_ERRORS, 404, 503];

export const ROUTES: readonly Route[] = [
  route({
    method: 'get',
    path: '/health',
    summary: 'Liveness',
    tag: 'meta',
    who: 'public',
    ok: [200, 'ok', z.object({ status: z.literal('ok') })],
    errors: [400, ...BAD_TOKEN],
    handle: () => ({ status: 'ok' }),
  }),
  route({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'meta',
    who: 'public',
    ok: [200, 'OpenAPI 3.1', z.object({}).loose()],
    errors: [400, ...BAD_TOKEN],
    handle: ({ request }) => openApiDocument(ROUTES, new URL(request.url).origin),
  }),
  route({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys that verify Signet tokens',
    tag: 'meta',
    who: 'public',
    ok: [200, 'JWK Set', S.Jwks],
    headers: { 'cache-control': 'public, max-age=300' },
    errors: [400, ...BAD_TOKEN],
    handle: async (_input, ctx) => (await loadActorKeys(ctx.env.ACTOR_SIGNING_KEYS)).jwks,
  }),
  route({
    method: 'post',
    path: '/v1/auth/token',
    summary:
      'Exchange a credential (IdP ID token, API key, a user token for an agent token by RFC 8693 token exchange, or in development an email) for an actor token',
    tag: 'auth',
    who: 'public',
    limit: (request, ctx) => limitTokenExchange(request, ctx.env.AUTH_RATE_LIMIT),
    body: grantSchema,
    ok: [200, 'A Signet actor token', S.TokenResponse],
    headers: { 'cache-control': 'no-store' },
    errors: [400, 401, 403, 404, 413, 429, 503],
    handle: ({ body }, ctx) => exchangeToken(ctx, body),
  }),
  route({
    method: 'get',
    path: '/v1/me',
    summary: 'The current actor',
    tag: 'auth',
    who: 'optional',
    ok: [200, 'The actor', z.object({ actor: S.ActorView })],
    errors: [400, 401],
    handle: (_input, ctx) => ({ actor: actorView(ctx.actor) }),
  }),
  route({
    method: 'get',
    path: '/v1/me/orgs',
    summary: "The user's memberships",
    tag: 'auth',
    who: 'user',
    refusal: { name: 'me.organizations.list', resource: 'membership' },
    ok: [200, 'Memberships', z.object({ organizations: z.array(S.Membership) })],
    errors: [400, ...AUTH_ERRORS, 503],
    handle: async (_input, ctx) => ({ organizations: await listMyOrganizations(ctx) }),
  }),
  route({
    method: 'post',
    path: '/v1/orgs',
    summary: 'Create an organization; the caller becomes its owner',
    tag: 'organizations',
    who: 'user',
    refusal: { name: 'organizations.create', resource: 'organization' },
    limit: (_request, ctx) => limitOrganizationCreation(ctx.actor.id, ctx.env.ORG_CREATE_RATE_LIMIT),
    body: CreateOrganization,
    ok: [201, 'Created', S.Organization],
    errors: [400, ...AUTH_ERRORS, 409, 413, 503],
    handle: ({ body }, ctx) => createOrganization(ctx, body),
  }),
  route({
    method: 'delete',
    path: '/v1/orgs/current',
    summary:
      "Delete the token's organization in a durable workflow: revoke its tokens and API keys, close its rooms, write a final export, delete its data",
    tag: 'organizations',
    who: 'member',
    action: requestOrganizationDeletion,
    ok: [202, 'Started', z.object({ workflow: z.object({ id: z.uuid(), status: z.literal('running') }) })],
    errors: [400, 409, ...TENANT_ERRORS],
    handle: (_input, ctx, requestDeletion) => requestDeletion(ctx, undefined),
  }),
  route({
    method: 'get',
    path: '/v1/workflows/:id',
    summary: 'A workflow and each of its steps (the user who started it, with any of their tokens)',
    tag: 'organizations',
    who: 'user',
    refusal: { name: 'workflows.read', resource: 'workflow', resourceId: 'id' },
    ok: [200, 'The workflow', z.object({ workflow: S.Workflow })],
    errors: [400, ...AUTH_ERRORS, 404, 503],
    handle: async ({ params }, ctx) => ({ workflow: await readWorkflow(ctx, params.id) }),
  }),
  route({
    method: 'get',
    path: '/v1/members',
    summary: 'List members',
    tag: 'members',
    who: 'member',
    action: listMembers,
    ok: [200, 'Members', z.object({ members: z.array(S.Member) })],
    errors: [400, ...TENANT_ERRORS],
    handle: async (_input, ctx, list) => ({ members: await list(ctx, undefined) }),
  }),
  route({
    method: 'post',
    path: '/v1/members',
    summary: 'Add a member by email',
    tag: 'members',
    who: 'member',
    action: addMember,
    body: AddMember,
    ok: [201, 'Added', z.object({ member: S.Member })],
    errors: [400, 409, 413, ...TENANT_ERRORS],
    handle: async ({ body }, ctx, add) => ({ member: await add(ctx, body) }),
  }),
  route({
    method: 'patch',
    path: '/v1/members/:userId',
    summary: "Change a member's role (admin/owner need members:grant_admin); revokes their tokens",
    tag: 'members',
    who: 'member',
    action: changeMemberRole,
    body: ChangeMember,
    ok: [200, 'Changed', z.object({ member: z.object({ userId: z.uuid(), role: z.string() }) })],
    errors: [400, 409, 413, ...TENANT_ERRORS],
    handle: async ({ params, body }, ctx, change) => {
      const { userId, role } = await change(ctx, { userId: params.userId, ...body });
      return { member: { userId, role } };
    },
  }),
  route({
    method: 'delete',
    path: '/v1/members/:userId',
    summary: 'Remove a member; revokes their tokens and closes their sockets',
    tag: 'members',
    who: 'member',
    action: removeMember,
    ok: [204, 'Removed'],
    errors: [400, 409, ...TENANT_ERRORS],
    handle: ({ params }, ctx, remove) => remove(ctx, params.userId),
  }),
  route({
    method: 'get',
    path: '/v1/documents',
    summary: 'List documents, newest first',
    tag: 'documents',
    who: 'member',
    action: listDocuments,
    query: ListDocuments,
    ok: [200, 'A page', z.object({ documents: z.array(S.Document), nextCursor: z.string().nullable() })],
    errors: [400, ...TENANT_ERRORS],
    handle: ({ query }, ctx, list) => list(ctx, query),
  }),
  route({
    method: 'post',
    path: '/v1/documents',
    summary: 'Create a document',
    tag: 'documents',
    who: 'member',
    action: createDocument,
    body: CreateDocument,
    ok: [201, 'Created', z.object({ document: S.Document })],
    errors: [400, 413, ...TENANT_ERRORS],
    handle: async ({ body }, ctx, create) => ({ document: await create(ctx, body) }),
  }),
  route({
    method: 'get',
    path: '/v1/documents/:id',
    summary: 'Read a document',
    tag: 'documents',
    who: 'member',
    action: readDocument,
    ok: [200, 'The document', z.object({ document: S.Document })],
    errors: [400, ...TENANT_ERRORS],
    handle: async ({ params }, ctx, read) => ({ document: await read(ctx, params.id) }),
  }),
  route({
    method: 'patch',
    path: '/v1/documents/:id',
    summary: 'Update a document; `version` must be the current one (409 otherwise)',
    tag: 'documents',
    who: 'member',
    action: updateDocument,
    body: UpdateDocument,
    ok: [200, 'Updated', z.object({ document: S.Document })],
    errors: [400, 409, 413, ...TENANT_ERRORS],
    handle: async ({ params, body }, ctx, update) => ({ document: await update(ctx, { id: params.id, ...body }) }),
  }),
  route({
    method: 'delete',
    path: '/v1/documents/:id',
    summary: 'Delete a document; closes its room',
    tag: 'documents',
    who: 'member',
    action: deleteDocument,
    ok: [204, 'Deleted'],
    errors: [400, ...TENANT_ERRORS],
    handle: ({ params }, ctx, remove) => remove(ctx, params.id),
  }),
  route({
    method: 'post',
    path: '/v1/documents/:id/exports',
    summary: 'Start a background export of the document',
    tag: 'jobs',
    who: 'member',
    action: createExport,
    body: CreateExport,
    bodyOptional: true,
    ok: [202, 'Queued', z.object({ job: S.Job })],
    errors: [400, 413, ...TENANT_ERRORS],
    handle: async ({ params }, ctx, start) => ({ job: await start(ctx, params.id) }),
  }),
  route({
    method: 'get',
    path: '/v1/jobs/:id',
    summary: 'A background job (its creator, or members:read)',
    tag: 'jobs',
    who: 'member',
    action: readJob,
    ok: [200, 'The job', z.object({ job: S.Job })],
    errors: [400, ...TENANT_ERRORS],
    handle: async ({ params }, ctx, read) => ({ job: await read(ctx, params.id) }),
  }),
  route({
    method: 'get',
    path: '/v1/rooms/:documentId',
    summary:
      'Join the document\'s realtime room (WebSocket upgrade; credentials in Authorization or the subprotocols "signet.v1", "bearer.<token>")',
    tag: 'rooms',
    who: 'member',
    ownCredentials: true,
    // `openRoom` runs it, as the actor of the subprotocol bearer when there is one.
    action: joinRoom,
    ok: [101, 'Switching protocols: the signet.v1 room protocol (SPEC §4)'],
    errors: [400, ...TENANT_ERRORS],
    handle: ({ params, request }, ctx) => openRoom(request, ctx, params.documentId),
  }),
  route({
    method: 'get',
    path: '/v1/public/documents/:id',
    summary: 'Read a public document (anyone)',
    tag: 'documents',
    who: 'optional',
    ok: [200, 'The document', z.object({ document: S.PublicDocument })],
    errors: [400, 401, 404, 503],
    handle: async ({ params }, ctx) => ({
      document: await readPublicDocument(ctx.db, { type: ctx.actor.type, id: ctx.requestId }, params.id),
    }),
  }),
  route({
    method: 'post',
    path: '/v1/api-keys',
    summary: 'Create an API key (the secret is shown once)',
    tag: 'api keys',
    who: 'member',
    action: createApiKey,
    body: CreateApiKey,
    ok: [201, 'Created', z.object({ apiKey: S.ApiKey, secret: z.string() })],
    errors: [400, 413, ...TENANT_ERRORS],
    handle: ({ body }, ctx, create) => create(ctx, body),
  }),
  route({
    method: 'get',
    path: '/v1/api-keys',
    summary: 'List API keys (never their secrets)',
    tag: 'api keys',
    who: 'member',
    action: listApiKeys,
    ok: [200, 'API keys', z.object({ apiKeys: z.array(S.ApiKey) })],
    errors: [400, ...TENANT_ERRORS],
    handle: async (_input, ctx, list) => ({ apiKeys: await list(ctx, undefined) }),
  }),
  route({
    method: 'delete',
    path: '/v1/api-keys/:id',
    summary: 'Revoke an API key; its tokens are refused and its sockets closed',
    tag: 'api keys',
    who: 'member',
    action: revokeApiKey,
    ok: [204, 'Revoked'],
    errors: [400, ...TENANT_ERRORS],
    handle: ({ params }, ctx, revoke) => revoke(ctx, params.id),
  }),
  route({
    method: 'get',
    path: '/v1/audit',
    summary: 'Audit events, newest first',
    tag: 'audit',
    who: 'member',
    action: listAuditEvents,
    query: AuditQuery,
    ok: [200, 'A page', z.object({ events: z.array(S.AuditEvent), nextCursor: z.string().nullable() })],
    errors: [400, ...TENANT_ERRORS],
    handle: ({ query }, ctx, list) => list(ctx, query),
  }),
  route({
    method: 'get',
    path: '/v1/delegations',
    summary: "The caller's own delegations in the organization (agents acting for them), newest first",
    tag: 'delegations',
    who: 'member',
    action: listDelegations,
    ok: [200, 'Delegations', z.object({ delegations: z.array(S.Delegation) })],
    errors: [400, ...TENANT_ERRORS],
    handle: async (_input, ctx, list) => ({ delegations: await list(ctx, undefined) }),
  }),
  route({
    method: 'delete',
    path: '/v1/delegations/:id',
    summary: "End one of the caller's delegations: its tokens are refused and its sockets closed (4003)",
    tag: 'delegations',
    who: 'member',
    action: endDelegation,
    ok: [204, 'Ended'],
    errors: [400, ...TENANT_ERRORS],
    handle: ({ params }, ctx, end) => end(ctx, params.id),
  }),
];
