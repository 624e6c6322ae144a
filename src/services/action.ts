/**
 * Tenant actions: how every business operation is declared and run. An action names its permission
 * next to its code (`defineAction`); running it
 *
 * 1. refuses a call without a real actor (a runtime guard for untyped callers),
 * 2. resolves the tenant from the actor's token — never from the path or the body — so a guest gets
 *    `AUTHENTICATION_REQUIRED` and an actor in no organization (org-less user, system) gets
 *    `INSUFFICIENT_PERMISSIONS`,
 * 3. checks the permission before touching any data (gate before),
 * 4. runs the action with a `TenantContext` (`tenant.ts`) whose session scope confines every statement
 *    to the tenant by row-level security.
 *
 * Every refusal — the permission check before the action, or a rule inside it (granting a role above
 * one's own, a key broader than its creator, a service deleting the organization) — is an
 * `InsufficientPermissions` that passes through here and is recorded as one audit event with
 * `outcome: "denied"` (SPEC §3), so a new rule can't forget it. The event names the resource only when
 * its id is well formed (a uuid; else `*`), and an actor's denied attempts are rate-limited
 * (`DENIED_RATE_LIMIT`, per actor): past the limit the answer is 429 and nothing more is written.
 */
import type { Context } from '../context.ts';
import { auditEvents } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import { InsufficientPermissions, RateLimited } from '../errors.ts';
import { log } from '../observability/log.ts';
import { can } from '../policy/authorize.ts';
import { UUID } from '../uuid.ts';
import { type ActionIdentity, type TenantContext, tenantContext } from './tenant.ts';

/** An action: its identity (`name`, `permission`, `resource`; `tenant.ts`), its code and its hooks. */
export interface ActionDefinition<I, O> extends ActionIdentity {
  /** The resource id for a denied event, when the input names one. */
  readonly resourceId?: (input: I) => string;
  run(ctx: TenantContext, input: I): Promise<O>;
  /**
   * After-action hooks (Ash's `after_action`): run once the change has committed, with the same actor
   * and request id, and the action answers only when they have finished or `HOOK_WAIT_MS` has passed
   * (whichever comes first; a slower hook goes on through `waitUntil`). They push revocations to rooms,
   * so "revoked when the request answers" (SPEC §4) holds whenever the rooms acknowledge in time. A
   * failing hook is retried, then reported; it never fails the committed action and is never silently
   * dropped.
   */
  readonly after?: readonly AfterHook<I, O>[];
}

export type AfterHook<I, O> = (ctx: TenantContext, input: I, result: O) => Promise<unknown>;

const HOOK_ATTEMPTS = 3;
/**
 * How long an action waits for its hooks before answering anyway: inside SPEC §1's "sockets closed
 * within 2 s", far above a room's acknowledgement (a few ms; bounded so a stuck room can't hold a
 * committed change's answer).
 */
export const HOOK_WAIT_MS = 1_500;

export type Action<I, O> = ((ctx: Context, input: I) => Promise<O>) & { readonly definition: ActionDefinition<I, O> };

/**
 * @example
 * export const readDocument = defineAction({
 *   name: 'documents.read', permission: 'documents:read', resource: 'document',
 *   run: async (ctx, id: string) => …,
 * })
 */
export function defineAction<I, O>(definition: ActionDefinition<I, O>): Action<I, O> {
  const action = async (ctx: Context, input: I): Promise<O> => {
    const tenant = tenantContext(ctx, definition);
    let result: O;
    try {
      if (definition.permission !== null && !can(tenant.actor, definition.permission)) {
        throw new InsufficientPermissions(definition.permission);
      }
      result = await definition.run(tenant, input);
    } catch (error) {
      if (error instanceof InsufficientPermissions) {
        await recordDenied(tenant, definition.resourceId?.(input));
      }
      throw error;
    }
    const hooks = (definition.after ?? []).map((hook) => runHook(tenant, hook, input, result));
    if (hooks.length > 0) {
      const all = Promise.all(hooks);
      // Whatever is still running when the wait ends keeps going after the response, its errors reported.
      tenant.waitUntil(all);
      await withDeadline(all, HOOK_WAIT_MS);
    }
    return result;
  };
  return Object.assign(action, { definition });
}

/** Resolves when `work` settles or after `ms`, whichever comes first; never rejects. */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer ?? null);
}

async function runHook<I, O>(ctx: TenantContext, hook: AfterHook<I, O>, input: I, result: O): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await hook(ctx, input, result);
      return;
    } catch (error) {
      if (attempt >= HOOK_ATTEMPTS) {
        log({
          level: 'error',
          msg: `after-action hook ${hook.name || 'anonymous'} failed`,
          action: ctx.action.name,
          requestId: ctx.requestId,
          actor: ctx.principal,
          organizationId: ctx.organizationId,
          error: (error as Error)?.name,
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

/**
 * A refusal outside any action (a route for users only, asked by a service or an agent): recorded in the
 * actor's organization as the `denied` event of `identity`, as an action's refusal is; rate-limited the
 * same way. An actor in no organization has no trail to write to.
 *
 * @example
 * await recordRefusal(ctx, { name: 'organizations.create', permission: null, resource: 'organization' })
 */
export async function recordRefusal(ctx: Context, identity: ActionIdentity, requested?: string): Promise<void> {
  let tenant: TenantContext;
  try {
    tenant = tenantContext(ctx, identity);
  } catch {
    return;
  }
  await recordDenied(tenant, requested);
}

/** The running action's `denied` event, naming the requested resource when its id is well formed. */
async function recordDenied(ctx: TenantContext, requested: string | undefined): Promise<void> {
  const limiter = ctx.env.DENIED_RATE_LIMIT;
  if (limiter) {
    const { success } = await limiter.limit({ key: `denied:${ctx.principal.type}:${ctx.principal.id}` });
    if (!success) throw new RateLimited(60, 'Too many refused attempts; retry later.');
  }
  // Only a well-formed resource id is recorded: a refused caller can't write arbitrary strings into the trail.
  const resourceId = requested !== undefined && UUID.test(requested) ? requested.toLowerCase() : '*';
  await runScoped(ctx.db, ctx.scope, [
    ctx.db.insert(auditEvents).values({
      organizationId: ctx.organizationId,
      actorType: ctx.principal.type,
      actorId: ctx.principal.id,
      action: ctx.action.name,
      resourceType: ctx.action.resource,
      resourceId,
      outcome: 'denied',
      requestId: ctx.requestId,
      onBehalfOfType: ctx.onBehalfOf?.type ?? null,
      onBehalfOfId: ctx.onBehalfOf?.id ?? null,
    }),
  ]);
}
