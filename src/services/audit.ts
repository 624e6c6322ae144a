/**
 * The audit trail (SPEC §3): every mutation writes exactly one event in the same transaction as the
 * change — here, in the same statement: `withAudit` wraps a data-modifying statement in a CTE whose
 * audit insert selects from the statement's RETURNING rows, so there is an event exactly when there is
 * a change, and a failure leaves neither. Refusals are recorded by `tenant.ts`.
 */
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { AuditQuery } from '../contract/requests.ts';
import { auditEvents } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import { afterCursor, pageOf } from './pagination.ts';
import { defineAction, type TenantContext } from './tenant.ts';

/**
 * `change` must be an INSERT/UPDATE/DELETE … RETURNING with a `"resourceId"` column; the result is
 * its rows, each with one audit event behind it.
 */
export function withAudit(ctx: TenantContext, action: string, resourceType: string, change: SQL): SQL {
  return sql`with changed as (${change}), ${auditedCte(ctx, action, resourceType)} select changed.* from changed`;
}

/** Who an audit event names: the tenant, the acting principal and the operation's request id. */
export type AuditSubject = Pick<TenantContext, 'organizationId' | 'principal' | 'requestId'>;

export type AuditOutcome = 'success' | 'denied' | 'failure';

/**
 * The `audited as (…)` CTE: one event per row of a `changed` CTE with a `"resourceId"` column —
 * `success` unless the change records a refusal or a failure (e.g. a background job that failed).
 */
export function auditedCte(
  ctx: AuditSubject,
  action: string,
  resourceType: string,
  outcome: AuditOutcome = 'success',
): SQL {
  return sql`audited as (
    insert into audit_events (organization_id, actor_type, actor_id, action, resource_type, resource_id, outcome, request_id)
    select ${ctx.organizationId}::uuid, ${ctx.principal.type}, ${ctx.principal.id}, ${action}, ${resourceType},
           changed."resourceId"::text, ${outcome}, ${ctx.requestId}
    from changed
    returning 1
  )`;
}

export interface AuditEventView {
  id: string;
  at: string;
  actor: { type: string; id: string };
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
