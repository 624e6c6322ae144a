/**
 * `GET /openapi.json`: OpenAPI 3.1 generated from the route catalogue and zod's own JSON Schema
 * output (`z.toJSONSchema`), so the document describes exactly what the handlers validate.
 */
import * as z from 'zod';
import { ROUTES, type RouteDoc } from './routes.ts';
import { ErrorEnvelope } from './schemas.ts';

const STATUS_TEXT: Record<number, string> = {
  400: 'VALIDATION_FAILED: malformed JSON, wrong types, unknown fields, limits exceeded',
  401: 'AUTHENTICATION_REQUIRED, INVALID_TOKEN, TOKEN_EXPIRED or TOKEN_REVOKED',
  403: 'INSUFFICIENT_PERMISSIONS',
  404: "NOT_FOUND (also for another organization's resource)",
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE (over 64 KiB)',
  429: 'RATE_LIMITED',
  503: 'DATABASE_UNAVAILABLE; nothing was written',
};

type Json = Record<string, unknown>;

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
  // A schema that is itself named comes back as its definition: refer to it instead.
  const id = (schema.meta() as { id?: string } | undefined)?.id;
  if (id) {
    components[id] = rest;
    return { $ref: `#/components/schemas/${id}` };
  }
  return rest;
}

function operation(route: RouteDoc): Json {
  const parameters: Json[] = [...route.path.matchAll(/:(\w+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
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
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    summary: route.summary,
    operationId: `${route.method}${route.path.replace(/[:/.-](\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, '')}`,
    tags: [route.tag],
    ...(route.permission ? { 'x-signet-permission': route.permission } : {}),
    security: route.auth === 'required' ? [{ bearer: [] }] : route.auth === 'optional' ? [{}, { bearer: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(route.body, 'input') } } } }
      : {}),
    responses,
  };
}

export function openApiDocument(serverUrl?: string): Json {
  schemaOf(ErrorEnvelope, 'output'); // registers components.schemas.Error
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
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
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
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
