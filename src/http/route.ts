/**
 * One HTTP route, declared once: method, path, who may call it, the zod schemas of its query and body
 * (`src/contract/`), its success and error responses and, for an organization's routes, the action whose
 * `definition.permission` it needs. `routes.ts` is the table of them; the router (`router.ts`) and the
 * OpenAPI document (`openapi/document.ts`) are both built from it, so neither can list a route, a schema
 * or a permission the other doesn't.
 *
 * Every request is read the same way, in this order:
 *
 * 1. a guest (no token) on a `user` or `member` route is 401 `AUTHENTICATION_REQUIRED` before anything
 *    it sent is read: what is wrong with its input is no answer for somebody who can't call the route
 *    (unless the route finds credentials of its own: `ownCredentials`);
 * 2. the query string against the route's `query` schema; a route that declares none takes no
 *    parameters, and any parameter is 400 `VALIDATION_FAILED` (as an unknown body field is);
 * 3. who may call it: a `user` route refuses any other actor here (403, audited as its `refusal`'s
 *    denied event in the actor's organization), before its body is read; a `member` route's action
 *    checks the actor and its permission itself;
 * 4. the route's rate limit, if it has one (429);
 * 5. the body, if the route takes one: at most 64 KiB, then its schema (`json.ts`);
 * 6. the handler, whose result is sent as JSON with the declared success status (nothing for a 204),
 *    unless it is a whole `Response` (the WebSocket upgrade).
 *
 * Error statuses come from the domain errors the steps throw (`error-response.ts`), never from here.
 */
import type { IRequest } from 'itty-router';
import type * as z from 'zod';
import type { UserActor } from '../actor/actor.ts';
import { requireActor } from '../actor/require.ts';
import { type Context, withActor } from '../context.ts';
import type { Permission } from '../contract/permissions.ts';
import { AuthenticationRequired, InsufficientPermissions } from '../errors.ts';
import { recordRefusal } from '../services/action.ts';
import { UUID } from '../uuid.ts';
import { json, readJson, readOptionalJson } from './json.ts';
import { NoQuery, readQuery } from './query.ts';

export type Method = 'get' | 'post' | 'patch' | 'delete';

/**
 * Who may call a route:
 * - `public`: anyone; no token is needed (a token that is sent must be valid, on every route);
 * - `optional`: anyone, a guest or the actor of a valid token, and the answer depends on which;
 * - `user`: a user's token, in an organization or none;
 * - `member`: an actor acting in its organization, with the permission of the route's action.
 */
export type Who = 'public' | 'optional' | 'user' | 'member';

/** What a route needs of an action (`defineAction`): that it can be run, and its permission. */
export interface RouteAction {
  readonly definition: { readonly permission: Permission | null };
}

/** A body schema, or one that depends on the deployment (`grantSchema(ENVIRONMENT)`). */
export type BodySchema = z.ZodType | ((environment: string) => z.ZodType);

/** The environment whose body schema the OpenAPI document describes: the widest (`dev` grants too). */
export const DOCUMENTED_ENVIRONMENT = 'development';

/** Success: the status, its description and the schema of its body (none for 101 and 204). */
export type Ok = readonly [status: number, description: string, schema?: z.ZodType];

/** `/v1/members/:userId` → `'userId'`. */
export type ParamName<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamName<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

type BodyOf<B> = B extends (environment: string) => infer S
  ? S extends z.ZodType
    ? z.infer<S>
    : never
  : B extends z.ZodType
    ? z.infer<B>
    : undefined;

type ContextFor<W extends Who> = W extends 'user' ? Context<UserActor> : Context;

/** What a handler reads of its request: its path parameters, and its query and body as their schemas parsed them. */
export interface RouteInput<P extends string, Q, B> {
  readonly params: Readonly<Record<ParamName<P>, string>>;
  readonly query: Q;
  readonly body: B;
  readonly request: IRequest;
}

export interface RouteSpec<P extends string, W extends Who, Q extends z.ZodType, B, A> {
  readonly method: Method;
  /** itty-router style, e.g. `/v1/documents/:id`. */
  readonly path: P;
  readonly summary: string;
  /** Its OpenAPI tag (declared in `openapi/document.ts`). */
  readonly tag: string;
  readonly who: W;
  /** The action the handler runs; its `definition.permission` is the route's. Required for `member`. */
  readonly action?: A;
  /**
   * A `user` route's refusal of any other actor, as its `denied` audit event names it (SPEC §3: every
   * 403 writes one); `resourceId` picks the requested resource from the path. Required for `user`.
   */
  readonly refusal?: { readonly name: string; readonly resource: string; readonly resourceId?: string };
  /**
   * The handler finds credentials the request carries elsewhere than `Authorization` (the room's
   * subprotocol bearer), so a guest reaches it and is refused there if it has none.
   */
  readonly ownCredentials?: true;
  /** The query parameters; without one, the route takes none. */
  readonly query?: Q;
  readonly body?: B;
  /** The body may be left out (read as `{}`). */
  readonly bodyOptional?: true;
  /** Throws `RateLimited` past the route's limit; runs before the body is read. */
  readonly limit?: (request: IRequest, ctx: ContextFor<W>) => Promise<void>;
  readonly ok: Ok;
  /** Headers of a success response (errors have their own). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The error statuses the route can answer with (all in the `Error` envelope). */
  readonly errors: readonly number[];
  /** The success body, or a whole `Response`; `action` is the entry's own. */
  handle(input: RouteInput<P, z.infer<Q>, BodyOf<B>>, ctx: ContextFor<W>, action: A): unknown;
}

/** A route of the table, as the router and the OpenAPI document read it. */
export interface Route {
  readonly method: Method;
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly who: Who;
  /** The action's permission; null where the route needs none (or its action names none). */
  readonly permission: Permission | null;
  /** A guest is refused (401) before its query or body is read: a `user` or `member` route without `ownCredentials`. */
  readonly refusesGuestsFirst: boolean;
  readonly query?: z.ZodType;
  /** The body schema, as documented (for `DOCUMENTED_ENVIRONMENT`). */
  readonly body?: z.ZodType;
  readonly bodyOptional: boolean;
  readonly ok: Ok;
  readonly errors: readonly number[];
  /** The itty-router handler: the steps above. */
  readonly fetch: (request: IRequest, ctx: Context) => Promise<Response>;
}

/**
 * @example
 * route({
 *   method: 'get', path: '/v1/documents/:id', summary: 'Read a document', tag: 'documents',
 *   who: 'member', action: readDocument,
 *   ok: [200, 'The document', z.object({ document: S.Document })], errors: TENANT_ERRORS,
 *   handle: async ({ params }, ctx, read) => ({ document: await read(ctx, params.id) }),
 * })
 */
export function route<
  const P extends string,
  W extends Who,
  Q extends z.ZodType = typeof NoQuery,
  B extends BodySchema | undefined = undefined,
  A extends RouteAction | undefined = undefined,
>(spec: RouteSpec<P, W, Q, B, A>): Route {
  if (spec.who === 'member' && spec.action === undefined) {
    throw new Error(`route ${spec.method} ${spec.path}: a member route names its action`);
  }
  if (spec.who === 'user' && spec.refusal === undefined) {
    throw new Error(`route ${spec.method} ${spec.path}: a user route names its refusal`);
  }
  const refusesGuestsFirst = (spec.who === 'user' || spec.who === 'member') && spec.ownCredentials !== true;
  const bodySchema = (environment: string): z.ZodType | undefined =>
    typeof spec.body === 'function' ? spec.body(environment) : (spec.body as z.ZodType | undefined);
  const [status] = spec.ok;
  return {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tag: spec.tag,
    who: spec.who,
    permission: spec.action?.definition.permission ?? null,
    refusesGuestsFirst,
    ...(spec.query ? { query: spec.query } : {}),
    ...(spec.body ? { body: bodySchema(DOCUMENTED_ENVIRONMENT) } : {}),
    bodyOptional: spec.bodyOptional === true,
    ok: spec.ok,
    errors: spec.errors,
    async fetch(request, context) {
      if (refusesGuestsFirst && context.actor.type === 'guest') throw new AuthenticationRequired();
      const query = readQuery(request, spec.query ?? NoQuery);
      const params = canonicalParams(request.params);
      const ctx = (
        spec.who === 'user' ? withActor(context, await userOf(context, params, spec.refusal!)) : context
      ) as ContextFor<W>;
      await spec.limit?.(request, ctx);
      const schema = bodySchema(ctx.env.ENVIRONMENT);
      const body = schema ? await (spec.bodyOptional ? readOptionalJson : readJson)(request, schema) : undefined;
      const input = { params, query, body, request } as RouteInput<P, z.infer<Q>, BodyOf<B>>;
      const result = await spec.handle(input, ctx, spec.action as A);
      if (result instanceof Response) return result;
      if (status === 204) return new Response(null, { status });
      return json(result, { status, ...(spec.headers ? { headers: spec.headers } : {}) });
    },
  };
}

/** The user a `user` route needs; any other actor in an organization is refused with its `denied` event. */
async function userOf(
  context: Context,
  params: Readonly<Record<string, string>>,
  refusal: NonNullable<RouteSpec<string, 'user', z.ZodType, unknown, unknown>['refusal']>,
): Promise<UserActor> {
  try {
    return requireActor(context, { type: 'user' });
  } catch (error) {
    if (error instanceof InsufficientPermissions) {
      const requested = refusal.resourceId ? params[refusal.resourceId] : undefined;
      await recordRefusal(context, { name: refusal.name, permission: null, resource: refusal.resource }, requested);
    }
    throw error;
  }
}

/**
 * Path parameters with every id in its one spelling, lower case: a UUID matches in Postgres whatever its
 * case, but what is named by it is not — a Durable Object (`idFromName`), an audit event's resource, a
 * room's registration. An upper-case document id opened a second room for the same document, which its
 * deletion never closed (an outside review).
 */
function canonicalParams<T extends Record<string, string>>(params: T): T {
  const canonical: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) canonical[name] = UUID.test(value) ? value.toLowerCase() : value;
  return canonical as T;
}
