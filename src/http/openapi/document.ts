/**
 * `GET /openapi.json`: OpenAPI 3.1 generated from the route table (`../routes.ts`, passed in so this
 * module imports no handler) and zod's own JSON Schema output (`z.toJSONSchema`), so the document
 * describes exactly what the handlers validate and the permissions their actions check.
 */
import * as z from 'zod';
import { ErrorEnvelope } from '../../contract/schemas.ts';
import type { Route } from '../route.ts';

const STATUS_TEXT: Record<number, string> = {
  400: 'VALIDATION_FAILED: malformed JSON, wrong types, unknown fields, limits exceeded',
  401: 'AUTHENTICATION_REQUIRED, INVALID_TOKEN, TOKEN_EXPIRED or TOKEN_REVOKED',
  403: 'INSUFFICIENT_PERMISSIONS',
  404: "NOT_FOUND (also for another organization's resource)",
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE (over 64 KiB)',
  429: 'RATE_LIMITED: too many token exchanges from one address, organizations created by one user, or refused attempts by one actor; `Retry-After` says when to try again',
  503: 'DATABASE_UNAVAILABLE; nothing was written',
};

type Json = Record<string, unknown>;

/** A 429's header (`error-response.ts`). */
const RETRY_AFTER = {
  description: 'Seconds to wait before trying again',
  required: true,
  schema: { type: 'integer', minimum: 1 },
};

const EXAMPLE_ID = '0b7e8a8e-4f5c-4d3a-9a57-3c1f2e6d9b10';

const PARAMETER_TEXT: Record<string, string> = {
  id: 'The resource id (a uuid)',
  userId: "The member's user id (a uuid)",
  documentId: "The document's id (a uuid)",
};

/** The tags of the operations, in the order a reader meets them (SPEC §3). */
const TAGS: { name: string; description: string }[] = [
  { name: 'meta', description: 'Liveness, verification keys and this document' },
  { name: 'auth', description: 'Tokens and the current actor' },
  { name: 'organizations', description: 'Organizations and their deletion workflow' },
  { name: 'members', description: 'Membership management' },
  { name: 'documents', description: 'Documents (tenant-scoped) and public documents' },
  { name: 'jobs', description: 'Background exports' },
  { name: 'rooms', description: 'Realtime rooms (WebSocket)' },
  { name: 'api keys', description: 'API keys for service actors' },
  { name: 'delegations', description: 'Agents acting for a user (RFC 8693 delegation): list and end them' },
  { name: 'audit', description: 'The audit log' },
];

/** Named schemas (zod `.meta({ id })`) land here, referenced as `#/components/schemas/<id>`. */
const components: Record<string, Json> = {};

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as Json;
  const {
    $schema: _dialect,
    $defs,
    ...rest
  } = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json & {
    $defs?: Record<string, Json>;
  };
  Object.assign(components, $defs);
  // A schema that is itself named comes back either as its definition or, when zod lifted it into
  // `$defs`, as a bare `$ref` to that definition. Keep the definition (never overwrite it with the
  // `$ref`: a component that refers to itself is what standard tools refuse) and refer to it.
  const id = (schema.meta() as { id?: string } | undefined)?.id;
  if (id) {
    const ref = `#/components/schemas/${id}`;
    if (rest.$ref !== ref) components[id] = rest;
    if (!components[id]) throw new Error(`schema ${id} has no definition`);
    return { $ref: ref };
  }
  return rest;
}

/** Who may call it, in words (SPEC §1/§3). */
const WHO: Record<Route['who'], string> = {
  public: 'Anyone: no token is needed (a token that is sent must be valid).',
  optional: 'Anyone: a guest without a token, or the actor of a valid token.',
  user: "Needs a user's actor token (`Authorization: Bearer <token>`).",
  member: 'Needs an actor token (`Authorization: Bearer <token>`).',
};

function describe(route: Route): string {
  const who = WHO[route.who];
  return route.permission ? `${who} Permission: \`${route.permission}\`.` : who;
}

function operation(route: Route): Json {
  // Every path parameter of the API is a resource id (a uuid); a malformed one answers 404, as a missing one.
  const parameters: Json[] = [...route.path.matchAll(/:(\w+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    description: PARAMETER_TEXT[m[1] ?? ''] ?? 'A resource id',
    schema: { type: 'string', format: 'uuid' },
    example: EXAMPLE_ID,
  }));
  if (route.query) {
    const query = schemaOf(route.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
    }
  }
  const [status, description, schema] = route.ok;
  const responses: Json = {
    [status]: schema
      ? { description, content: { 'application/json': { schema: schemaOf(schema, 'output') } } }
      : { description },
  };
  for (const code of route.errors) {
    responses[code] = {
      description: STATUS_TEXT[code] ?? 'Error',
      ...(code === 429 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    summary: route.summary,
    description: describe(route),
    operationId: `${route.method}${route.path.replace(/[:/.-](\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, '')}`,
    tags: [route.tag],
    ...(route.permission ? { 'x-signet-permission': route.permission } : {}),
    security: route.who === 'public' ? [] : route.who === 'optional' ? [{}, { bearer: [] }] : [{ bearer: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(routes: readonly Route[], serverUrl?: string): Json {
  schemaOf(ErrorEnvelope, 'output'); // registers components.schemas.Error
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    if (!TAGS.some((t) => t.name === route.tag)) throw new Error(`route ${route.path}: undeclared tag ${route.tag}`);
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Signet',
      version: '0.1.0',
      description:
        'Signed actors for the edge: every operation is performed by exactly one actor, proven by a signed token (see SPEC.md).',
      contact: { name: 'Signet maintainers', email: 'security@signet.example' },
      license: { name: 'UNLICENSED: proprietary, all rights reserved' },
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    tags: TAGS,
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT (typ actor+jwt)',
          description: 'A Signet actor token from POST /v1/auth/token',
        },
      },
      schemas: { ...components },
    },
  };
}
