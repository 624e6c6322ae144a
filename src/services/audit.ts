/**
 * The audit trail (SPEC §3): every mutation writes exactly one event in the same transaction as the
 * change — here, in the same statement: `withAudit` wraps a data-modifying statement in a CTE whose
 * audit insert selects from the statement's RETURNING rows, so there is an event exactly when there is
 * a change, and a failure leaves neither. Refusals are recorded by `action.ts`.
 *
 * An event names the running action — its definition's `name` and `resource`, which travel on the
 * tenant context (`ctx.action`) — so an action's audit can't drift from its declaration. Only what is
 * not the running action's own success names its event explicitly (`auditedEventCte`: a job's failure,
 * a deletion that failed).
 */
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { AuditQuery } from '../contract/requests.ts';
import { auditEvents } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import { defineAction } from './action.ts';
import { afterCursor, pageOf } from './pagination.ts';
import type { TenantContext } from './tenant.ts';

/**
 * `change` must be an INSERT/UPDATE/DELETE … RETURNING with a `"resourceId"` column; the result is
 * its rows, each with one event of the running action behind it.
 */
export function withAudit(ctx: TenantContext, change: SQL): SQL {
  return sql`with changed as (${change}), ${auditedCte(ctx)} select changed.* from changed`;
}

/**
 * Who an audit event names: the tenant, the acting principal, whom it acted for (an agent's user) and
 * the operation's request id. Without `onBehalfOf`, an agent principal's user is read from its
 * delegation, so no event of an agent ever lacks it.
 */
export type AuditSubject = Pick<TenantContext, 'organizationId' | 'principal' | 'requestId'> & {
  readonly onBehalfOf?: { readonly type: 'user'; readonly id: string } | null;
};

function onBehalfOfSql(ctx: AuditSubject): { type: SQL; id: SQL } {
  if (ctx.onBehalfOf) return { type: sql`${ctx.onBehalfOf.type}`, id: sql`${ctx.onBehalfOf.id}` };
  if (ctx.principal.type !== 'agent') return { type: sql`null`, id: sql`null` };
  return {
    type: sql`'user'`,
    id: sql`(select user_id::text from delegations where id::text = ${ctx.principal.id})`,
  };
}

export type AuditOutcome = 'success' | 'denied' | 'failure';

/** What an event records: the audit action, the resource type, and how it ended (`success` by default). */
export interface AuditedEvent {
  readonly action: string;
  readonly resource: string;
  readonly outcome?: AuditOutcome;
}

/**
 * The `audited as (…)` CTE of the running action (`ctx.action`): one `success` event per row of a
 * `changed` CTE with a `"resourceId"` column.
 */
export function auditedCte(ctx: TenantContext): SQL {
  return auditedEventCte(ctx, { action: ctx.action.name, resource: ctx.action.resource });
}

/**
 * The same CTE for an event that is not the running action's own success — named here explicitly:
 * a background job that failed or was refused, a deletion that ended `failed`.
 */
export function auditedEventCte(ctx: AuditSubject, event: AuditedEvent): SQL {
  const outcome = event.outcome ?? 'success';
  const onBehalfOf = onBehalfOfSql(ctx);
  return sql`audited as (
    insert into audit_events (organization_id, actor_type, actor_id, action, resource_type, resource_id, outcome, request_id,
                              on_behalf_of_type, on_behalf_of_id)
    select ${ctx.organizationId}::uuid, ${ctx.principal.type}, ${ctx.principal.id}, ${event.action}, ${event.resource},
           changed."resourceId"::text, ${outcome}, ${ctx.requestId}, ${onBehalfOf.type}, ${onBehalfOf.id}
    from changed
    returning 1
  )`;
}

export interface AuditEventView {
  id: string;
  at: string;
  actor: { type: string; id: string };
  /** An agent's delegating user (SPEC §3). */
  onBehalfOf?: { type: string; id: string };
  organizationId: string;
  action: string;
  resource: { type: string; id: string };
  outcome: string;
  requestId: string;
}

export const listAuditEvents = defineAction({
  name: 'audit.list',
  permission: 'audit:read',
  resource: 'audit_event',
  async run(ctx, query: z.infer<typeof AuditQuery>) {
    const { db } = ctx;
    const [rows] = await runScoped(db, ctx.scope, [
      db
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.organizationId, ctx.organizationId),
            afterCursor(auditEvents.at, auditEvents.id, query.cursor),
          ),
        )
        .orderBy(desc(auditEvents.at), desc(auditEvents.id))
        .limit(query.limit + 1),
    ]);
    const { page, nextCursor } = pageOf(rows, query.limit, (e) => ({ at: e.at, id: e.id }));
    return {
      events: page.map(
        (e): AuditEventView => ({
          id: e.id,
          at: e.at.toISOString(),
          actor: { type: e.actorType, id: e.actorId },
          ...(e.onBehalfOfType && e.onBehalfOfId ? { onBehalfOf: { type: e.onBehalfOfType, id: e.onBehalfOfId } } : {}),
          organizationId: e.organizationId,
          action: e.action,
          resource: { type: e.resourceType, id: e.resourceId },
          outcome: e.outcome,
          requestId: e.requestId,
        }),
      ),
      nextCursor,
    };
  },
});
