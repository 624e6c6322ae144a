/**
 * Response shapes, as zod schemas: the OpenAPI document's components. Request bodies and queries are
 * not here — the OpenAPI document uses the very schemas that validate them (`services/*`). The types
 * the services return are checked against these (`test/http/openapi/document.test.ts`), so they can't drift.
 */
import * as z from 'zod';
import { ERROR_CODES } from './error-codes.ts';
import { PERMISSIONS, ROLES } from './permissions.ts';

const id = z.uuid();
const timestamp = z.iso.datetime();
/** Who created a resource: its principal as `<type>:<id>` (README, "createdBy"), e.g. `user:<uuid>`. */
const principal = z
  .string()
  .regex(/^(user|service):[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/)
  .meta({
    description: 'The creating principal, `<type>:<id>`: `user:<user id>` or `service:<API key id>`',
    example: 'user:0b7e8a8e-4f5c-4d3a-9a57-3c1f2e6d9b10',
  });

export const ErrorCode = z.enum(ERROR_CODES);

export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error', example: { error: { code: 'NOT_FOUND', message: 'Not found.', requestId: '5f0c…' } } });

export const ActorView = z
  .object({
    type: z.enum(['user', 'service', 'agent', 'guest', 'system', 'websocket']),
    id: z.string().optional(),
    onBehalfOf: z.object({ type: z.literal('user'), id }).optional(),
    name: z.string().optional(),
    organizationId: id.nullable().optional(),
    role: z.enum(ROLES).nullable().optional(),
    permissions: z.array(z.enum(PERMISSIONS)).optional(),
    scopes: z.array(z.enum(PERMISSIONS)).optional(),
    sessionId: z.string().optional(),
    requestId: z.string().optional(),
    expiresAt: timestamp.optional(),
  })
  .meta({ id: 'Actor', description: 'The actor a request is performed by (SPEC §1).' });

export const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
    actor: ActorView,
    issued_token_type: z
      .literal('urn:ietf:params:oauth:token-type:access_token')
      .optional()
      .describe('Token exchange (RFC 8693) only.'),
    scope: z.string().optional().describe('Token exchange only: the agent token’s scopes.'),
    delegation_id: id.optional().describe('Token exchange only: the delegation the agent token stands for.'),
  })
  .meta({ id: 'TokenResponse' });

export const Membership = z
  .object({ id, name: z.string(), slug: z.string(), role: z.enum(ROLES) })
  .meta({ id: 'Membership' });

export const Organization = z
  .object({
    organization: z.object({ id, name: z.string(), slug: z.string(), createdAt: timestamp }),
    role: z.literal('owner'),
  })
  .meta({ id: 'CreatedOrganization' });

export const Document = z
  .object({
    id,
    title: z.string(),
    body: z.string(),
    visibility: z.enum(['private', 'public']),
    version: z.number().int(),
    createdBy: principal,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Document' });

export const PublicDocument = z
  .object({ id, title: z.string(), body: z.string(), visibility: z.literal('public'), updatedAt: timestamp })
  .meta({ id: 'PublicDocument' });

export const Member = z
  .object({
    userId: id,
    email: z.email().nullable(),
    name: z.string().nullable(),
    role: z.enum(ROLES),
    createdAt: timestamp,
  })
  .meta({ id: 'Member' });

export const ApiKey = z
  .object({
    id,
    name: z.string(),
    scopes: z.array(z.enum(PERMISSIONS)),
    createdBy: principal,
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const Delegation = z
  .object({
    id,
    agent: z.object({ name: z.string() }),
    scopes: z.array(z.enum(PERMISSIONS)),
    createdAt: timestamp,
    expiresAt: timestamp,
    endedAt: timestamp.nullable(),
  })
  .meta({ id: 'Delegation' });

export const AuditEvent = z
  .object({
    id,
    at: timestamp,
    actor: z.object({ type: z.string(), id: z.string() }),
    onBehalfOf: z.object({ type: z.string(), id: z.string() }).optional(),
    organizationId: id,
    action: z.string(),
    resource: z.object({ type: z.string(), id: z.string() }),
    outcome: z.enum(['success', 'denied', 'failure']),
    requestId: z.string(),
  })
  .meta({ id: 'AuditEvent' });

export const Job = z
  .object({
    id,
    kind: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    documentId: id.nullable(),
    result: z.unknown().optional(),
    expiresAt: timestamp.optional(),
    error: z.object({ code: z.string() }).optional(),
    attempts: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Job' });

export const Jwks = z
  .object({
    keys: z.array(z.object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') }).loose()),
  })
  .meta({ id: 'JWKS' });

export const StepState = z.object({
  name: z.enum(['revoke-access', 'close-rooms', 'final-export', 'delete-data']),
  status: z.enum(['pending', 'running', 'succeeded', 'failed']),
  attempts: z.number().int(),
  at: timestamp.nullable(),
  error: z.object({ code: z.string() }).optional(),
});

export const Workflow = z
  .object({
    id,
    kind: z.literal('organization.delete'),
    status: z.enum(['running', 'succeeded', 'failed']),
    organization: z.object({ id, slug: z.string(), name: z.string() }),
    requestedBy: id,
    requestedAt: timestamp,
    completedAt: timestamp.nullable(),
    error: z.object({ code: z.string() }).optional(),
    steps: z.array(StepState),
    finalExport: z.unknown().optional(),
  })
  .meta({ id: 'Workflow' });
