/**
 * Document exports (SPEC §3), a background job:
 *
 * - `createExport` (`POST /v1/documents/:id/exports`) records a queued job for a document of the
 *   actor's organization, audited as `exports.create`, then enqueues a message that carries the job id
 *   and an actor *reference* — never a token;
 * - `runExport` is what the queue consumer runs, as the actor rebuilt from that reference: it reads the
 *   document through `readDocument` (same policy, tenant session and audit as `GET /v1/documents/:id`)
 *   and stores a JSON snapshot as the job's result, audited as `exports.run`.
 */
import { sql } from 'drizzle-orm';
import { runScoped } from '../db/session.ts';
import { InsufficientPermissions, NotFound } from '../errors.ts';
import { exportMessage } from '../messages.ts';
import type { Permission } from '../policy/permissions.ts';
import { defineAction } from './action.ts';
import { withAudit } from './audit.ts';
import { readDocument } from './documents.ts';
import { resourceId } from './ids.ts';
import { completeJob, failJob, JOB_COLUMNS, type JobRow, type JobView, jobView } from './jobs.ts';

/** What the job needs of its rebuilt actor: starting an export, reading the document. */
export const EXPORT_PERMISSIONS: readonly Permission[] = ['exports:create', 'documents:read'];

export interface ExportSnapshot {
  title: string;
  body: string;
  version: number;
  exportedAt: string;
}

export const createExport = defineAction({
  name: 'exports.create',
  permission: 'exports:create',
  // The job it creates, like every event of an export (its run, a failed enqueue): a refusal, before
  // any job exists, names none (`*`), as every refused create does.
  resource: 'job',
  async run(ctx, documentId: string): Promise<JobView> {
    resourceId(documentId);
    // The consumer rebuilds the actor from a reference: only token actors can be rebuilt.
    const type = ctx.actor.type;
    if (type !== 'user' && type !== 'service' && type !== 'agent') throw new InsufficientPermissions('exports:create');
    const { db } = ctx;
    // The job exists only for a document of this organization (row-level security, and the filter).
    const [created] = await runScoped(db, ctx.scope, [
      db.execute(
        withAudit(
          ctx,
          sql`insert into jobs (organization_id, kind, actor_type, actor_id, input)
              select ${ctx.organizationId}, 'export', ${ctx.principal.type}, ${ctx.principal.id},
                     jsonb_build_object('documentId', d.id)
              from documents d where d.id = ${documentId} and d.organization_id = ${ctx.organizationId}
              returning ${JOB_COLUMNS}, id as "resourceId"`,
        ),
      ),
    ]);
    const row = created.rows[0] as unknown as JobRow | undefined;
    if (!row) throw new NotFound();
    const actor = { type, id: ctx.actor.id, organizationId: ctx.organizationId };
    try {
      await ctx.env.JOBS.send(exportMessage(row.id, actor));
    } catch (error) {
      // Not enqueued: the job would wait forever, so it fails now, and the request with it.
      const job = { db, jobId: row.id, actor, requestId: ctx.requestId };
      await failJob(job, { attempt: null, code: 'INTERNAL_ERROR', action: 'exports.create', outcome: 'failure' });
      throw error;
    }
    return jobView(row);
  },
});

export const runExport = defineAction({
  name: 'exports.run',
  permission: 'exports:create',
  resource: 'job',
  resourceId: (input: { jobId: string }) => input.jobId,
  /** True when this run finished the job; false when another run had taken it over meanwhile. */
  async run(ctx, input: { jobId: string; attempt: number; documentId: string }): Promise<boolean> {
    const document = await readDocument(ctx, input.documentId);
    const snapshot: ExportSnapshot = {
      title: document.title,
      body: document.body,
      version: document.version,
      exportedAt: new Date().toISOString(),
    };
    return completeJob(ctx, { jobId: input.jobId, attempt: input.attempt }, snapshot);
  },
});
