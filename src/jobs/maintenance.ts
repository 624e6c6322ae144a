/**
 * Scheduled maintenance (SPEC §3), run by the cron trigger as the system actor — never as a user, and
 * never able to run a business action (those refuse the system actor). In one transaction it:
 *
 * - clears the results of succeeded jobs past their `expires_at` (`RESULT_TTL_DAYS` after success);
 * - fails jobs left unfinished for `ABANDONED_AFTER_HOURS` (their messages were dead-lettered or lost),
 *   with `INTERNAL_ERROR`;
 * - deletes audit events older than `AUDIT_RETENTION_DAYS` (unset keeps them all), at most
 *   `AUDIT_PURGE_BATCH` a run;
 * - prunes revocations older than the longest token lifetime, which can no longer refuse anything;
 *
 * and records, in the same statement, one audit event per organization and maintenance action that
 * changed something there: actor `{ type: 'system', id: 'maintenance' }`, resource id `*`.
 *
 * It reaches tenant rows only through the session's `maintenance` flag and the narrow policies of
 * migrations/0006_jobs_maintenance.sql.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { SystemActor } from '../actor/actor.ts';
import { systemActor } from '../actor/system.ts';
import { MAX_LIFETIME_SECONDS } from '../actor/tokens/claims.ts';
import { type Context, createContext, runInContext } from '../context.ts';
import { openDatabase } from '../db/client.ts';
import { maintenanceScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';
import type { Env } from '../env.ts';
import { log } from '../observability/log.ts';
import { assertSystemAction } from '../policy/system-actions.ts';
import { ABANDONED_AFTER_HOURS } from './retry-policy.ts';

/** Revocations older than this can't refuse any token still alive (twice the longest lifetime). */
export const REVOCATION_KEEP_SECONDS = 2 * MAX_LIFETIME_SECONDS;

/** At most this many audit events are deleted per run; the rest go at the next. */
export const AUDIT_PURGE_BATCH = 10_000;

export interface MaintenanceChange {
  organizationId: string;
  action: string;
  count: number;
}

/**
 * @example
 * await runMaintenance({ ...ctx, actor: systemActor('maintenance') })
 */
export async function runMaintenance(ctx: Context): Promise<MaintenanceChange[]> {
  assertSystemAction(ctx.actor, 'maintenance:run');
  const actor = ctx.actor as SystemActor;
  const { db } = ctx;
  const retentionDays = auditRetentionDays(ctx.env.AUDIT_RETENTION_DAYS);
  const tooOld: SQL = retentionDays === null ? sql`false` : sql`at < now() - make_interval(days => ${retentionDays})`;
  const [result] = await runScoped(db, maintenanceScope(actor.reason), [
    db.execute(sql`with expired as (
        update jobs set result = null, updated_at = now()
        where result is not null and expires_at <= now()
        returning organization_id
      ), abandoned as (
        update jobs set status = 'failed', error_code = 'INTERNAL_ERROR', result = null, updated_at = now()
        where status in ('queued', 'running') and updated_at < now() - make_interval(hours => ${ABANDONED_AFTER_HOURS})
        returning organization_id
      ), purged as (
        delete from audit_events
        where id in (select id from audit_events where ${tooOld} order by at limit ${AUDIT_PURGE_BATCH})
        returning organization_id
      ), pruned as (
        delete from revocations where revoked_at < now() - make_interval(secs => ${REVOCATION_KEEP_SECONDS})
        returning organization_id
      ), changes as (
        select organization_id, 'maintenance.expire_job_results' as action, 'job' as resource_type, count(*) as n
          from expired group by organization_id
        union all select organization_id, 'maintenance.fail_abandoned_jobs', 'job', count(*)
          from abandoned group by organization_id
        union all select organization_id, 'maintenance.purge_audit_events', 'audit_event', count(*)
          from purged group by organization_id
        union all select organization_id, 'maintenance.prune_revocations', 'revocation', count(*)
          from pruned group by organization_id
      ), audited as (
        insert into audit_events (organization_id, actor_type, actor_id, action, resource_type, resource_id, outcome, request_id)
        select organization_id, 'system', ${actor.reason}, action, resource_type, '*', 'success', ${ctx.requestId}
        from changes
        returning 1
      ) select organization_id as "organizationId", action, n::int as count from changes order by 1, 2`),
  ]);
  return result.rows as unknown as MaintenanceChange[];
}

/**
 * `AUDIT_RETENTION_DAYS`: a whole number of days ≥ 1, or null (keep everything) when unset. A value that
 * is not one is reported and keeps everything: a typo must not delete the audit trail.
 *
 * @example
 * auditRetentionDays('90') // 90
 * auditRetentionDays(undefined) // null
 */
export function auditRetentionDays(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const days = Number(value);
  if (Number.isInteger(days) && days >= 1) return days;
  log({ level: 'error', msg: 'AUDIT_RETENTION_DAYS is not a whole number of days ≥ 1; keeping every event' });
  return null;
}

/**
 * The Worker's `scheduled` handler: maintenance as `systemActor('maintenance')`; its lines name that
 * actor (`{ type: 'system', id: 'maintenance' }`) and the run's request id through the context.
 */
export async function handleScheduled(_controller: ScheduledController, env: Env, exec: ExecutionContext) {
  // Nobody waits on the cron run: its batches get a minute (a scheduled run may last 15).
  const ctx = createContext({ actor: systemActor('maintenance'), env, exec, db: () => openDatabase(env, 60_000) });
  await runInContext(ctx, async () => {
    const changes = await runMaintenance(ctx);
    log({ level: 'info', msg: 'maintenance ran', count: changes.length });
    for (const { organizationId, action, count } of changes) {
      log({ level: 'info', msg: 'maintenance changed', organizationId, action, count });
    }
  });
}
