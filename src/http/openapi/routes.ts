/**
 * The catalogue of Signet's HTTP API (SPEC §3/§4): every route of `router.ts`, with who may call it,
 * the schemas that validate its input (the same objects the handlers use), and its responses. The
 * OpenAPI document is generated from this; a test checks it lists exactly the router's routes.
 */
import * as z from 'zod';
import type { Permission } from '../../contract/permissions.ts';
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
} from '../../contract/requests.ts';
import * as S from '../../contract/schemas.ts';

export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** itty-router style, e.g. `/v1/documents/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** `none`: anyone; `optional`: works for guests too; `required`: a token actor. */
  auth: 'none' | 'optional' | 'required';
  permission?: Permission;
  body?: z.ZodType;
  /** The body may be left out (the handler reads none as `{}`). */
  bodyOptional?: true;
  query?: z.ZodType;
  /** Success status → schema (undefined for no body). */
  ok: [status: number, description: string, schema?: z.ZodType];
  /** Error statuses this route can answer with (all in the `Error` envelope). */
  errors: number[];
}

// Any request that sends an `Authorization` header gets a 401 when it isn't a valid token, on every route.
const BAD_TOKEN = [401];
const AUTH_ERRORS = [401, 403];
const TENANT_ERRORS = [...AUTH_ERRORS, 404, 503];

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness',
    tag: 'meta',
    auth: 'none',
    ok: [200, 'ok', z.object({ status: z.literal('ok') })],
    errors: BAD_TOKEN,
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys that verify Signet tokens',
    tag: 'meta',
    auth: 'none',
    ok: [200, 'JWK Set', S.Jwks],
    errors: BAD_TOKEN,
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'meta',
    auth: 'none',
    ok: [200, 'OpenAPI 3.1', z.object({}).loose()],
    errors: BAD_TOKEN,
  },
  {
    method: 'post',
    path: '/v1/auth/token',
    summary:
      'Exchange a credential (IdP ID token, API key, a user token for an agent token by RFC 8693 token exchange, or in development an email) for an actor token',
    tag: 'auth',
    auth: 'none',
    body: grantSchema('development'),
    ok: [200, 'A Signet actor token', S.TokenResponse],
    errors: [400, 401, 403, 404, 413, 429, 503],
  },
  {
    method: 'get',
    path: '/v1/me',
    summary: 'The current actor',
    tag: 'auth',
    auth: 'optional',
    ok: [200, 'The actor', z.object({ actor: S.ActorView })],
    errors: [401],
  },
  {
    method: 'get',
    path: '/v1/me/orgs',
    summary: "The user's memberships",
    tag: 'auth',
    auth: 'required',
    ok: [200, 'Memberships', z.object({ organizations: z.array(S.Membership) })],
    errors: [401, 403, 503],
  },
  {
    method: 'post',
    path: '/v1/orgs',
    summary: 'Create an organization; the caller becomes its owner',
    tag: 'organizations',
    auth: 'required',
    body: CreateOrganization,
    ok: [201, 'Created', S.Organization],
    errors: [400, 401, 403, 409, 413, 503],
  },
  {
    method: 'delete',
    path: '/v1/orgs/current',
    summary:
      "Delete the token's organization in a durable workflow: revoke its tokens and API keys, close its rooms, write a final export, delete its data",
    tag: 'organizations',
    auth: 'required',
    permission: 'org:delete',
    ok: [202, 'Started', z.object({ workflow: z.object({ id: z.uuid(), status: z.literal('running') }) })],
    errors: [400, 409, ...TENANT_ERRORS],
  },
  {
    method: 'get',
    path: '/v1/workflows/:id',
    summary: 'A workflow and each of its steps (the user who started it, with any of their tokens)',
    tag: 'organizations',
    auth: 'required',
    ok: [200, 'The workflow', z.object({ workflow: S.Workflow })],
    errors: [401, 403, 404, 503],
  },
  {
    method: 'get',
    path: '/v1/members',
    summary: 'List members',
    tag: 'members',
    auth: 'required',
    permission: 'members:read',
    ok: [200, 'Members', z.object({ members: z.array(S.Member) })],
    errors: [400, ...TENANT_ERRORS],
  },
  {
    method: 'post',
    path: '/v1/members',
    summary: 'Add a member by email',
    tag: 'members',
    auth: 'required',
    permission: 'members:write',
    body: AddMember,
    ok: [201, 'Added', z.object({ member: S.Member })],
    errors: [400, 409, 413, ...TENANT_ERRORS],
  },
  {
    method: 'patch',
    path: '/v1/members/:userId',
    summary: "Change a member's role (admin/owner need members:grant_admin); revokes their tokens",
    tag: 'members',
    auth: 'required',
    permission: 'members:write',
    body: ChangeMember,
    ok: [200, 'Changed', z.object({ member: z.object({ userId: z.uuid(), role: z.string() }) })],
    errors: [400, 409, 413, ...TENANT_ERRORS],
  },
  {
    method: 'delete',
    path: '/v1/members/:userId',
    summary: 'Remove a member; revokes their tokens and closes their sockets',
    tag: 'members',
    auth: 'required',
    permission: 'members:write',
    ok: [204, 'Removed'],
    errors: [409, ...TENANT_ERRORS],
  },
  {
    method: 'get',
    path: '/v1/documents',
    summary: 'List documents, newest first',
    tag: 'documents',
    auth: 'required',
    permission: 'documents:read',
    query: ListDocuments,
    ok: [200, 'A page', z.object({ documents: z.array(S.Document), nextCursor: z.string().nullable() })],
    errors: [400, ...TENANT_ERRORS],
  },
  {
    method: 'post',
    path: '/v1/documents',
    summary: 'Create a document',
    tag: 'documents',
    auth: 'required',
    permission: 'documents:write',
    body: CreateDocument,
    ok: [201, 'Created', z.object({ document: S.Document })],
    errors: [400, 413, ...TENANT_ERRORS],
  },
  {
    method: 'get',
    path: '/v1/documents/:id',
    summary: 'Read a document',
    tag: 'documents',
    auth: 'required',
    permission: 'documents:read',
    ok: [200, 'The document', z.object({ document: S.Document })],
    errors: TENANT_ERRORS,
  },
  {
    method: 'patch',
    path: '/v1/documents/:id',
    summary: 'Update a document; `version` must be the current one (409 otherwise)',
    tag: 'documents',
    auth: 'required',
    permission: 'documents:write',
    body: UpdateDocument,
    ok: [200, 'Updated', z.object({ document: S.Document })],
    errors: [400, 409, 413, ...TENANT_ERRORS],
  },
  {
    method: 'delete',
    path: '/v1/documents/:id',
    summary: 'Delete a document; closes its room',
    tag: 'documents',
    auth: 'required',
    permission: 'documents:delete',
    ok: [204, 'Deleted'],
    errors: TENANT_ERRORS,
  },
  {
    method: 'post',
    path: '/v1/documents/:id/exports',
    summary: 'Start a background export of the document',
    tag: 'jobs',
    auth: 'required',
    permission: 'exports:create',
    body: CreateExport,
    bodyOptional: true,
    ok: [202, 'Queued', z.object({ job: S.Job })],
    errors: [400, 413, ...TENANT_ERRORS],
  },
  {
    method: 'get',
    path: '/v1/jobs/:id',
    summary: 'A background job (its creator, or members:read)',
    tag: 'jobs',
    auth: 'required',
    ok: [200, 'The job', z.object({ job: S.Job })],
    errors: TENANT_ERRORS,
  },
  {
    method: 'get',
    path: '/v1/rooms/:documentId',
    summary:
      'Join the document\'s realtime room (WebSocket upgrade; credentials in Authorization or the subprotocols "signet.v1", "bearer.<token>")',
    tag: 'rooms',
    auth: 'required',
    permission: 'rooms:join',
    ok: [101, 'Switching protocols: the signet.v1 room protocol (SPEC §4)'],
    errors: [400, ...TENANT_ERRORS],
  },
  {
    method: 'get',
    path: '/v1/public/documents/:id',
    summary: 'Read a public document (anyone)',
    tag: 'documents',
    auth: 'optional',
    ok: [200, 'The document', z.object({ document: S.PublicDocument })],
    errors: [401, 404, 503],
  },
  {
    method: 'post',
    path: '/v1/api-keys',
    summary: 'Create an API key (the secret is shown once)',
    tag: 'api keys',
    auth: 'required',
    permission: 'api_keys:write',
    body: CreateApiKey,
    ok: [201, 'Created', z.object({ apiKey: S.ApiKey, secret: z.string() })],
    errors: [400, 413, ...TENANT_ERRORS],
  },
  {
    method: 'get',
    path: '/v1/api-keys',
    summary: 'List API keys (never their secrets)',
    tag: 'api keys',
    auth: 'required',
    permission: 'api_keys:write',
    ok: [200, 'API keys', z.object({ apiKeys: z.array(S.ApiKey) })],
    errors: [400, ...TENANT_ERRORS],
  },
  {
    method: 'delete',
    path: '/v1/api-keys/:id',
    summary: 'Revoke an API key; its tokens are refused and its sockets closed',
    tag: 'api keys',
    auth: 'required',
    permission: 'api_keys:write',
    ok: [204, 'Revoked'],
    errors: TENANT_ERRORS,
  },
  {
    method: 'get',
    path: '/v1/delegations',
    summary: "The caller's own delegations in the organization (agents acting for them), newest first",
    tag: 'delegations',
    auth: 'required',
    ok: [200, 'Delegations', z.object({ delegations: z.array(S.Delegation) })],
    errors: [400, ...TENANT_ERRORS],
  },
  {
    method: 'delete',
    path: '/v1/delegations/:id',
    summary: "End one of the caller's delegations: its tokens are refused and its sockets closed (4003)",
    tag: 'delegations',
    auth: 'required',
    ok: [204, 'Ended'],
    errors: TENANT_ERRORS,
  },
  {
    method: 'get',
    path: '/v1/audit',
    summary: 'Audit events, newest first',
    tag: 'audit',
    auth: 'required',
    permission: 'audit:read',
    query: AuditQuery,
    ok: [200, 'A page', z.object({ events: z.array(S.AuditEvent), nextCursor: z.string().nullable() })],
    errors: [400, ...TENANT_ERRORS],
  },
];
