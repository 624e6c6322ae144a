/**
 * Organization deletion (SPEC §3): `DELETE /v1/orgs/current` records the deletion and starts a durable
 * workflow (`workflows/organization-deletion.ts`) whose every step is one of the actions below, run as the
 * initiating owner — rebuilt from an actor reference at that step, checked against `org:delete` by the
 * same policy as any request, and audited as that owner. The system actor performs none of them.
 *
 * Steps: revoke the organization's tokens and API keys; close its rooms (4003); write a final export
 * into the deletion record; delete its tenant data. The deletion record (who, when, the workflow, each
 * step, the export) and the audit trail outlive the data.
 */
import { sql } from 'drizzle-orm';
import type { UserActor } from '../actor/actor.ts';
import { organizationDeletions } from '../db/schema.ts';
import { userScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';
import { Conflict, InsufficientPermissions, NotFound } from '../errors.ts';
import { databaseNow, forgetRevocations, noteRevocation } from '../identity/revocations.ts';
import type { DeletionParams } from '../messages.ts';
import { defineAction } from './action.ts';
import { auditedCte, auditedEventCte } from './audit.ts';
import { forgetRoomDocuments } from './collaboration.ts';
import { resourceId } from './ids.ts';
import { closeOrganizationRoomConnections } from './rooms.ts';
import type { TenantContext } from './tenant.ts';

export const DELETION_STEPS = ['revoke-access', 'close-rooms', 'final-export', 'delete-data'] as const;
export type DeletionStep = (typeof DELETION_STEPS)[number];

export interface StepState {
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  attempts: number;
  at: string | null;
  error?: { code: string };
}

export interface WorkflowView {
  id: string;
  kind: 'organization.delete';
  status: 'running' | 'succeeded' | 'failed';
  organization: { id: string; slug: string; name: string };
  requestedBy: string;
  requestedAt: string;
  completedAt: string | null;
  error?: { code: string };
  steps: ({ name: DeletionStep } & StepState)[];
  finalExport?: unknown;
}

function pendingSteps(): Record<DeletionStep, StepState> {
  return Object.fromEntries(DELETION_STEPS.map((s) => [s, { status: 'pending', attempts: 0, at: null }])) as Record<
    DeletionStep,
    StepState
  >;
}

export const requestOrganizationDeletion = defineAction({
  name: 'organizations.delete',
  permission: 'org:delete',
  resource: 'organization',
  after: [
    // Before the answer, within the hooks' bound (SPEC §4: once it answers, no room accepts another
    // frame): every room's connections close with 4003. Nothing is refused yet: the tokens are revoked by
    // the workflow's first step, whose own hook then refuses them in every room (a deletion that fails
    // before it leaves them working in rooms as over HTTP).
    async function closeRooms(ctx) {
      await closeOrganizationRoomConnections(ctx.env, ctx.organizationId, 'organization deleted', null);
    },
  ],
  async run(ctx, _input: undefined) {
    // The workflow runs as this user, and only they may follow it: a user, not an API key.
    if (ctx.actor.type !== 'user') throw new InsufficientPermissions('org:delete');
    const { db } = ctx;
    const id = crypto.randomUUID();
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(sql`with changed as (
          insert into organization_deletions (id, organization_id, organization_slug, organization_name, initiated_by, request_id, steps)
          select ${id}, o.id, o.slug, o.name, ${ctx.actor.id}, ${ctx.requestId}, ${JSON.stringify(pendingSteps())}::jsonb
          from organizations o where o.id = ${ctx.organizationId}
          on conflict (organization_id) where status <> 'failed' do nothing
          returning organization_id as "resourceId"
        ), ${auditedCte(ctx)}
        select count(*)::int as started from changed`),
    ]);
    if ((result.rows[0] as { started: number }).started !== 1) {
      throw new Conflict('The organization is already being deleted.');
    }
    const params: DeletionParams = {
      deletionId: id,
      owner: { type: 'user', id: ctx.actor.id, organizationId: ctx.organizationId },
      requestId: ctx.requestId,
    };
    try {
      await ctx.env.ORG_DELETION.create({ id, params });
    } catch (error) {
      await finishDeletion(ctx, id, 'failed', 'INTERNAL_ERROR');
      throw error;
    }
    return { workflow: { id, status: 'running' as const } };
  },
});

/**
 * Step 1: every token of the organization issued until now is refused — over HTTP, and in every room from
 * the same database time on (its hook; sockets that reconnected since the request close again) — and every
 * API key is revoked.
 */
export const revokeOrganizationAccess = defineAction({
  name: 'organizations.delete.revoke_access',
  permission: 'org:delete',
  resource: 'organization',
  after: [
    async function refuseInRooms(ctx, _deletionId, result: { revokedAt: number | null }) {
      await closeOrganizationRoomConnections(ctx.env, ctx.organizationId, 'organization deleted', result.revokedAt);
    },
  ],
  async run(ctx, deletionId: string): Promise<{ revokedAt: number | null }> {
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(sql`with changed as (
          update organization_deletions set access_revoked_at = ${databaseNow}
          where id = ${deletionId} and organization_id = ${ctx.organizationId}
          returning organization_id as "resourceId", access_revoked_at
        ), keys as (
          update api_keys set revoked_at = ${databaseNow} where organization_id = ${ctx.organizationId} and revoked_at is null
          returning id
        ), ${auditedCte(ctx)}
        select (select count(*) from keys)::int as keys, (select access_revoked_at from changed) as "revokedAt"`),
    ]);
    const revokedAt = (result.rows[0] as { revokedAt: Date | string | null } | undefined)?.revokedAt;
    if (revokedAt) noteRevocation(ctx.organizationId, 'organization', ctx.organizationId, new Date(revokedAt));
    forgetRevocations(ctx.organizationId);
    return { revokedAt: revokedAt ? new Date(revokedAt).getTime() : null };
  },
});

/**
 * Step 2: every connection in every room of the organization closes with 4003, and every document's room
 * forgets its Yjs state (the text must not outlive the organization in Durable Object storage).
 */
export const closeOrganizationRooms = defineAction({
  name: 'organizations.delete.close_rooms',
  permission: 'org:delete',
  resource: 'organization',
  async run(ctx, _deletionId: string) {
    // Again, and refusing every earlier token should step 1's hook not have reached the rooms (no token
    // of the organization is issued while it is being deleted, so now is as good a line).
    const closed = await closeOrganizationRoomConnections(
      ctx.env,
      ctx.organizationId,
      'organization deleted',
      Date.now(),
    );
    await forgetRoomDocuments(ctx);
    await recordStepEvent(ctx);
    return { closed };
  },
});

/** Step 3: a final export of the organization's documents, kept in the deletion record. */
export const writeFinalExport = defineAction({
  name: 'organizations.delete.final_export',
  permission: 'org:delete',
  resource: 'organization',
  async run(ctx, deletionId: string) {
    const { db } = ctx;
    await runScoped(db, ctx.scope, [
      db.execute(sql`with changed as (
          update organization_deletions set final_export = (
            select jsonb_build_object(
              'exportedAt', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'documents', coalesce(jsonb_agg(jsonb_build_object(
                'id', d.id, 'title', d.title, 'body', d.body, 'visibility', d.visibility, 'version', d.version,
                'createdAt', d.created_at, 'updatedAt', d.updated_at) order by d.created_at), '[]'::jsonb))
            from documents d where d.organization_id = ${ctx.organizationId})
          where id = ${deletionId} and organization_id = ${ctx.organizationId}
          returning organization_id as "resourceId"
        ), ${auditedCte(ctx)}
        select count(*) from changed`),
    ]);
  },
});

/**
 * Step 4: the organization's tenant data is deleted (the organization row; memberships, documents, API
 * keys, jobs and revocations go with it). The deletion record and the audit trail stay.
 */
export const deleteOrganizationData = defineAction({
  name: 'organizations.delete.delete_data',
  permission: 'org:delete',
  resource: 'organization',
  async run(ctx, _deletionId: string) {
    const { db } = ctx;
    await runScoped(db, ctx.scope, [
      db.execute(sql`with changed as (
          delete from organizations where id = ${ctx.organizationId} returning id as "resourceId"
        ), ${auditedCte(ctx)}
        select count(*) from changed`),
    ]);
    forgetRevocations(ctx.organizationId);
  },
});

/** The running step's event, for a step that changes no row (its resource: the organization). */
async function recordStepEvent(ctx: TenantContext): Promise<void> {
  await runScoped(ctx.db, ctx.scope, [
    ctx.db.execute(sql`with changed as (select ${ctx.organizationId}::uuid as "resourceId"),
      ${auditedCte(ctx)} select 1`),
  ]);
}

/** Records a step's state in the deletion record (the workflow's own bookkeeping, not audited). */
export async function markStep(
  ctx: Pick<TenantContext, 'db' | 'scope' | 'organizationId'>,
  deletionId: string,
  step: DeletionStep,
  state: StepState,
): Promise<void> {
  await runScoped(ctx.db, ctx.scope, [
    ctx.db.execute(sql`update organization_deletions set steps = steps || jsonb_build_object(${step}::text, ${JSON.stringify(state)}::jsonb)
      where id = ${deletionId} and organization_id = ${ctx.organizationId}`),
  ]);
}

/**
 * Ends the deletion record. A failed deletion is audited (`organizations.delete.failed`, outcome
 * `failure`) in the same statement, and stops counting as a deletion: the organization is usable again
 * and may be deleted anew (its tokens issued before step 1 stay revoked; its keys stay revoked).
 */
export async function finishDeletion(
  ctx: Pick<TenantContext, 'db' | 'scope' | 'organizationId' | 'principal' | 'requestId'>,
  deletionId: string,
  status: 'succeeded' | 'failed',
  errorCode?: string,
): Promise<void> {
  const finished = sql`update organization_deletions set status = ${status}, error_code = ${errorCode ?? null},
      completed_at = ${new Date()} where id = ${deletionId} and organization_id = ${ctx.organizationId}
      returning organization_id as "resourceId"`;
  await runScoped(ctx.db, ctx.scope, [
    status === 'failed'
      ? ctx.db.execute(
          sql`with changed as (${finished}), ${auditedEventCte(ctx, { action: 'organizations.delete.failed', resource: 'organization', outcome: 'failure' })} select 1`,
        )
      : ctx.db.execute(finished),
  ]);
}

/** `GET /v1/workflows/:id`: the user who started it, with any of their tokens (org-less included). */
export async function readWorkflow(
  ctx: { db: TenantContext['db']; actor: UserActor },
  id: string,
): Promise<WorkflowView> {
  resourceId(id);
  const { db, actor } = ctx;
  const [rows] = await runScoped(db, userScope(actor.id), [
    db
      .select()
      .from(organizationDeletions)
      .where(sql`${organizationDeletions.id} = ${id} and ${organizationDeletions.initiatedBy} = ${actor.id}`),
  ]);
  const row = rows[0];
  if (!row) throw new NotFound();
  const steps = row.steps as Record<DeletionStep, StepState>;
  return {
    id: row.id,
    kind: 'organization.delete',
    status: row.status as WorkflowView['status'],
    organization: { id: row.organizationId, slug: row.organizationSlug, name: row.organizationName },
    requestedBy: row.initiatedBy,
    requestedAt: row.requestedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    ...(row.errorCode ? { error: { code: row.errorCode } } : {}),
    steps: DELETION_STEPS.map((name) => ({ name, ...(steps[name] ?? { status: 'pending', attempts: 0, at: null }) })),
    ...(row.finalExport ? { finalExport: row.finalExport } : {}),
  };
}
