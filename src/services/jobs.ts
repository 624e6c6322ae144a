/**
 * Background jobs (SPEC §3): `GET /v1/jobs/:id`, and the life of a job row —
 * `queued → running → succeeded | failed` — with every transition guarded in SQL, so a message
 * delivered twice runs its job once:
 *
 * - `claimJob` moves a queued job (or a running one whose worker stopped renewing it for
 *   `LEASE_SECONDS`) to running and counts the attempt; a finished or busy job is left alone;
 * - `completeJob` and `failJob` finish only the attempt that claimed the job (`attempts = $attempt`),
 *   each with its audit event in the same statement (`exports.run`: `success`, `denied` or `failure`);
 * - `releaseJob` puts a job whose attempt failed transiently back to queued for the next delivery.
 *
 * Claiming and releasing are the job's own bookkeeping and write no audit event; each run's outcome
 * writes exactly one. They run in a tenant session on behalf of the job's actor reference: the actor
 * itself is rebuilt only after the claim (`identity/rebuild-actor.ts`).
 */
import { type SQL, sql } from 'drizzle-orm';
import type { ActorRef } from '../actor/actor.ts';
import type { Database } from '../db/client.ts';
import { tenantScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';
import { type ErrorCode, NotFound } from '../errors.ts';
import { can } from '../policy/authorize.ts';
import { defineAction } from './action.ts';
import { type AuditOutcome, auditedEventCte, withAudit } from './audit.ts';
import { resourceId } from './ids.ts';
import type { TenantContext } from './tenant.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** Days a succeeded job keeps its result; maintenance clears it afterwards. */
export const RESULT_TTL_DAYS = 7;

/**
 * A running job whose `updated_at` is older than this is taken to be abandoned (its worker crashed),
 * and the next delivery of its message takes it over. Longer than any export run, shorter than the
 * retry window (`backoffSeconds` of jobs/retry-policy.ts sums to 130 s), so a crashed attempt is retried
 * within its message's deliveries.
 */
export const LEASE_SECONDS = 60;

export interface JobView {
  id: string;
  kind: string;
  status: JobStatus;
  documentId: string | null;
  /** A succeeded job's result, until `expiresAt`. */
  result?: unknown;
  expiresAt?: string;
  /** A failed job's error code (SPEC §3 codes). */
  error?: { code: string };
  /** Runs begun so far (a transient failure puts the job back to queued for another). */
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

/** A job row as the raw statements here return it. */
export interface JobRow {
  id: string;
  kind: string;
  status: string;
  actorType: string;
  actorId: string;
  input: unknown;
  result: unknown;
  errorCode: string | null;
  attempts: number;
  createdAt: Date | string;
  updatedAt: Date | string;
  expiresAt: Date | string | null;
}

export const JOB_COLUMNS = sql`id, kind, status, actor_type as "actorType", actor_id as "actorId", input, result,
  error_code as "errorCode", attempts, created_at as "createdAt", updated_at as "updatedAt", expires_at as "expiresAt"`;

export function jobView(row: JobRow): JobView {
  const status = row.status as JobStatus;
  const documentId = (row.input as { documentId?: unknown } | null)?.documentId;
  return {
    id: row.id,
    kind: row.kind,
    status,
    documentId: typeof documentId === 'string' ? documentId : null,
    ...(status === 'succeeded' && row.result !== null ? { result: row.result } : {}),
    ...(status === 'succeeded' && row.expiresAt !== null ? { expiresAt: new Date(row.expiresAt).toISOString() } : {}),
    ...(status === 'failed' ? { error: { code: row.errorCode ?? 'INTERNAL_ERROR' } } : {}),
    attempts: Number(row.attempts),
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export const readJob = defineAction({
  name: 'jobs.read',
  permission: 'exports:create',
  resource: 'job',
  resourceId: (id: string) => id,
  async run(ctx, id: string) {
    resourceId(id);
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(sql`select ${JOB_COLUMNS} from jobs where id = ${id} and organization_id = ${ctx.organizationId}`),
    ]);
    const row = result.rows[0] as unknown as JobRow | undefined;
    // Its creator and whoever may read the organization's members (admins, owners) see a job; to anyone
    // else in the organization it is as missing as another organization's.
    const isCreator = row?.actorType === ctx.principal.type && row.actorId === ctx.principal.id;
    if (!row || !(isCreator || can(ctx.actor, 'members:read'))) throw new NotFound();
    return jobView(row);
  },
});

/** A job as its consumer knows it before the actor is rebuilt: the row, the reference, the operation. */
export interface JobHandle {
  readonly db: Database;
  readonly jobId: string;
  readonly actor: ActorRef;
  readonly requestId: string;
}

export type Claim =
  | { readonly state: 'claimed'; readonly attempt: number; readonly input: unknown }
  /** Succeeded or failed already: a duplicate delivery. */
  | { readonly state: 'finished' }
  /** Running in another worker that renewed it within the lease. */
  | { readonly state: 'busy' }
  /** No such job for this actor (deleted with its organization, or a message that doesn't match it). */
  | { readonly state: 'missing' };

/** The job's row, which must also name the referenced actor as its creator. */
function ownRow(job: JobHandle): SQL {
  return sql`id = ${job.jobId} and organization_id = ${job.actor.organizationId}
    and actor_type = ${job.actor.type} and actor_id = ${job.actor.id}`;
}

export async function claimJob(job: JobHandle): Promise<Claim> {
  const { db } = job;
  const [claimed, current] = await runScoped(db, tenantScope(job.actor), [
    db.execute(sql`update jobs set status = 'running', attempts = attempts + 1, updated_at = now()
      where ${ownRow(job)}
        and (status = 'queued'
             or (status = 'running' and updated_at < now() - make_interval(secs => ${LEASE_SECONDS})))
      returning attempts, input`),
    // Same transaction, after the update: what the job looks like when it wasn't ours to claim.
    db.execute(sql`select status from jobs where ${ownRow(job)}`),
  ]);
  const row = claimed.rows[0] as { attempts: number; input: unknown } | undefined;
  if (row) return { state: 'claimed', attempt: Number(row.attempts), input: row.input };
  const status = (current.rows[0] as { status: JobStatus } | undefined)?.status;
  if (status === undefined) return { state: 'missing' };
  return status === 'running' ? { state: 'busy' } : { state: 'finished' };
}

/** Back to queued after a transient failure of `attempt`, for the message's next delivery. */
export async function releaseJob(job: JobHandle, attempt: number): Promise<void> {
  const { db } = job;
  await runScoped(db, tenantScope(job.actor), [
    db.execute(sql`update jobs set status = 'queued', updated_at = now()
      where ${ownRow(job)} and status = 'running' and attempts = ${attempt}`),
  ]);
}

/**
 * Fails the job with `code`, audited as `action` with `outcome` (`denied` for a refusal). `attempt` is
 * the run that claimed it; `null` fails a job that no run has claimed (still queued). True when it did.
 */
export async function failJob(
  job: JobHandle,
  failure: { attempt: number | null; code: ErrorCode; action: string; outcome: Exclude<AuditOutcome, 'success'> },
): Promise<boolean> {
  const { db } = job;
  const guard =
    failure.attempt === null ? sql`status = 'queued'` : sql`status = 'running' and attempts = ${failure.attempt}`;
  const subject = { organizationId: job.actor.organizationId, principal: job.actor, requestId: job.requestId };
  const [result] = await runScoped(db, tenantScope(job.actor), [
    db.execute(sql`with changed as (
        update jobs set status = 'failed', error_code = ${failure.code}, updated_at = now()
        where ${ownRow(job)} and ${guard}
        returning id as "resourceId"
      ), ${auditedEventCte(subject, { action: failure.action, resource: 'job', outcome: failure.outcome })}
      select count(*)::int as n from changed`),
  ]);
  return (result.rows[0] as { n: number }).n > 0;
}

/**
 * Succeeds the run `attempt` with its result, audited as the running action (`exports.run`) by the actor
 * of `ctx`. True when it did.
 */
export async function completeJob(
  ctx: TenantContext,
  job: { jobId: string; attempt: number },
  result: unknown,
): Promise<boolean> {
  const { db } = ctx;
  const [done] = await runScoped(db, ctx.scope, [
    db.execute(
      withAudit(
        ctx,
        sql`update jobs set status = 'succeeded', result = ${JSON.stringify(result)}::jsonb, error_code = null,
              expires_at = now() + make_interval(days => ${RESULT_TTL_DAYS}), updated_at = now()
            where id = ${job.jobId} and organization_id = ${ctx.organizationId}
              and status = 'running' and attempts = ${job.attempt}
            returning id as "resourceId"`,
      ),
    ),
  ]);
  return done.rows.length > 0;
}
