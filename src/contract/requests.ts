/**
 * Request bodies and queries of the HTTP API (SPEC §3), as the zod schemas the handlers validate with.
 * Part of the contract: the router and the OpenAPI document use these very objects, and the typed
 * client takes its input types from them. Nothing here knows a server module.
 */
import * as z from 'zod';
import { PERMISSIONS, type Permission, ROLES } from './permissions.ts';

export const MAX_PAGE = 100;

/**
 * A query parameter that is a whole number written in decimal digits, nothing else: `z.coerce.number()`
 * would take `0x10`, `1e2`, ` 5` and `5.0` too (`Number`'s grammar), which no client means as a page size.
 */
const decimal = (value: unknown) => (typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value);

/** `?cursor&limit` and nothing else: an unknown parameter (a client-chosen tenant, say) is refused. */
export const PageQuery = z.strictObject({
  cursor: z.string().min(1).max(200).optional(),
  limit: z.preprocess(
    decimal,
    z.number({ error: 'A whole number, in decimal digits.' }).int().min(1).max(MAX_PAGE).default(50),
  ),
});

const organizationRef = z.string().trim().min(1).max(100);

export const IdTokenGrant = z.strictObject({
  grant_type: z.literal('id_token'),
  id_token: z.string().min(1).max(16_384),
  organization: organizationRef.optional(),
});
export const ApiKeyGrant = z.strictObject({
  grant_type: z.literal('api_key'),
  api_key: z.string().min(1).max(200),
});
export const DevGrant = z.strictObject({
  grant_type: z.literal('dev'),
  email: z.email().max(254),
  organization: organizationRef.optional(),
  ttl_seconds: z.number().int().min(5).max(3600).optional(),
});

/** RFC 8693 token exchange: a user's own Signet token → an agent acting for them (SPEC §2). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const isPermission = (value: string): value is Permission => (PERMISSIONS as readonly string[]).includes(value);

/**
 * A space-separated list of known permissions: none unknown, none repeated, at least one. (A refinement,
 * not a transform, so the OpenAPI document can describe it: `scopesOf` splits it.)
 */
const ScopeList = z
  .string()
  .min(1)
  .max(1000)
  .describe('Space-separated permissions, e.g. "documents:read documents:write"')
  .superRefine((value, ctx) => {
    const scopes = value.split(' ');
    if (scopes.some((s) => s === '')) {
      ctx.addIssue({ code: 'custom', message: 'scope is a single-space-separated list of permissions' });
    } else if (!scopes.every(isPermission)) {
      ctx.addIssue({ code: 'custom', message: 'unknown permission in scope' });
    } else if (new Set(scopes).size !== scopes.length) {
      ctx.addIssue({ code: 'custom', message: 'scope must not repeat a permission' });
    }
  });

/** The permissions of a validated `scope`. */
export function scopesOf(scope: string): Permission[] {
  return scope.split(' ').filter(isPermission);
}

export const TokenExchangeGrant = z.strictObject({
  grant_type: z.literal(TOKEN_EXCHANGE_GRANT),
  // An actor token is refused past 4 KiB before any parsing (`actor/tokens/claims.ts`).
  subject_token: z.string().min(1).max(4096),
  subject_token_type: z.literal(ACCESS_TOKEN_TYPE),
  scope: ScopeList,
  agent: z.strictObject({ name: z.string().trim().min(1).max(100) }),
  ttl_seconds: z.number().int().min(5).max(3600).optional(),
});

/** The grants a deployment accepts: `dev` exists only in development; elsewhere it is an unknown grant type. */
export function grantSchema(environment: string) {
  return environment === 'development'
    ? z.discriminatedUnion('grant_type', [IdTokenGrant, ApiKeyGrant, TokenExchangeGrant, DevGrant])
    : z.discriminatedUnion('grant_type', [IdTokenGrant, ApiKeyGrant, TokenExchangeGrant]);
}

export type Grant =
  | z.infer<typeof IdTokenGrant>
  | z.infer<typeof ApiKeyGrant>
  | z.infer<typeof TokenExchangeGrant>
  | z.infer<typeof DevGrant>;

export const CreateOrganization = z.strictObject({
  name: z.string().trim().min(1).max(100),
  slug: z
    .string()
    .min(3)
    .max(48)
    .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens')
    // The token exchange names an organization by id or slug (SPEC): a slug shaped like an id would
    // name two organizations.
    .refine((slug) => !z.guid().safeParse(slug).success, 'must not be shaped like an organization id (a UUID)'),
});

export const AddMember = z.strictObject({ email: z.email().max(254), role: z.enum(ROLES) });
export const ChangeMember = z.strictObject({ role: z.enum(ROLES) });

const title = z.string().trim().min(1).max(200);
/** A document's body, over HTTP and as the room's shared `body` text (SPEC §4.1): at most this many characters. */
export const MAX_BODY_CHARS = 60_000;
const body = z.string().max(MAX_BODY_CHARS);
const visibility = z.enum(['private', 'public']);

export const CreateDocument = z.strictObject({
  title,
  body: body.default(''),
  visibility: visibility.default('private'),
});
export const UpdateDocument = z.strictObject({
  title: title.optional(),
  body: body.optional(),
  visibility: visibility.optional(),
  // A Postgres `integer`, as `documents.version` is: a larger one would reach the database to be refused there.
  version: z.number().int().min(1).max(2_147_483_647),
});
export const ListDocuments = PageQuery;

/** The body of `POST /v1/documents/:id/exports`: optional, and nothing in it yet (unknown fields are refused). */
export const CreateExport = z.strictObject({});

export const CreateApiKey = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z
    .array(z.enum(PERMISSIONS))
    .min(1)
    .max(PERMISSIONS.length)
    .refine((s) => new Set(s).size === s.length, 'scopes must not repeat'),
});

export const AuditQuery = PageQuery;
