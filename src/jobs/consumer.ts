/**
 * The jobs queue consumer (SPEC §3). For each message, independently:
 *
 * 1. claim the job in the database (`claimJob`): a job that already finished — a duplicate delivery —
 *    is acknowledged untouched; one running in another worker is retried later;
 * 2. rebuild the actor from the message's reference (`rebuildActor`), with the role and membership it
 *    has now; a member removed or a key revoked meanwhile is refused;
 * 3. run the export as that actor through the same action, policies, tenant session and audit as an
 *    HTTP request (`runExport`), inside its own context.
 *
 * Failures: a permanent one (`isPermanentFailure`: refused, not found) fails the job at once, recorded on the
 * job and in the audit, and the message is acknowledged. Anything else is transient: the job goes back
 * to queued and the message is retried with backoff; on its last delivery the job is failed with the
 * error's code and the message handed back once more, so the platform moves it to the dead-letter
 * queue (`signet-jobs-dlq`), which keeps it.
 */
import * as z from 'zod';
import { createContext, runInContext } from '../context.ts';
import { openDatabase } from '../db/client.ts';
import type { Env } from '../env.ts';
import { clientErrorCode, InsufficientPermissions, isPermanentFailure, ValidationFailed } from '../errors.ts';
import { rebuildActor } from '../identity/rebuild-actor.ts';
import { JobMessage } from '../messages.ts';
import { log } from '../observability/log.ts';
import { can } from '../policy/authorize.ts';
import { EXPORT_PERMISSIONS, runExport } from '../services/exports.ts';
import { claimJob, failJob, type JobHandle, LEASE_SECONDS, releaseJob } from '../services/jobs.ts';
import { backoffSeconds, MAX_DELIVERIES } from './retry-policy.ts';

/**
 * Each batch of a job gives up inside the job's lease (60 s from its claim), its statements sooner
 * (`session.ts`). A run of several batches can still outlast the lease; then only the attempt that
 * claimed the job can finish it (`services/jobs.ts`), so a takeover never runs it twice.
 */
const JOB_ANSWER_WITHIN_MS = (LEASE_SECONDS - 10) * 1000;

const ExportInput = z.object({ documentId: z.uuid() });

/** The Worker's `queue` handler: every message is acknowledged or retried on its own; this never throws. */
export async function handleJobBatch(batch: MessageBatch<unknown>, env: Env, exec: ExecutionContext): Promise<void> {
  await Promise.all(batch.messages.map((message) => handleMessage(message, env, exec)));
}

async function handleMessage(message: Message<unknown>, env: Env, exec: ExecutionContext): Promise<void> {
  const parsed = JobMessage.safeParse(message.body);
  if (!parsed.success) {
    // Not a message this code produced: there is no job to run or to record it on.
    log({ level: 'error', msg: 'malformed job message', messageId: message.id });
    message.ack();
    return;
  }
  const { jobId, actor } = parsed.data;
  let job: JobHandle | undefined;
  let attempt: number | null = null;
  try {
    job = { db: openDatabase(env, JOB_ANSWER_WITHIN_MS), jobId, actor, requestId: `job:${jobId}` };
    const claim = await claimJob(job);
    if (claim.state === 'busy') {
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
      return;
    }
    if (claim.state !== 'claimed') {
      if (claim.state === 'missing')
        log({ level: 'warn', msg: 'job message for no job', messageId: message.id, jobId });
      message.ack();
      return;
    }
    attempt = claim.attempt;
    await runClaimed(job, claim.attempt, claim.input, env, exec);
    message.ack();
  } catch (error) {
    const code = clientErrorCode(error);
    const name = (error as Error | null)?.name;
    log({
      level: 'warn',
      msg: 'job attempt failed',
      jobId,
      messageId: message.id,
      attempt: message.attempts,
      code,
      error: name,
    });
    if (message.attempts >= MAX_DELIVERIES) {
      // No retry is left: record the failure, then hand the message back so the platform moves it to
      // the dead-letter queue.
      if (job) {
        const failure = { attempt, code, action: 'exports.run', outcome: 'failure' } as const;
        await failJob(job, failure).catch((e) =>
          log({ level: 'error', msg: 'could not fail job', jobId, error: e?.name }),
        );
      }
      message.retry();
    } else {
      if (job && attempt !== null) {
        await releaseJob(job, attempt).catch((e) =>
          log({ level: 'warn', msg: 'could not release job', jobId, error: e?.name }),
        );
      }
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    }
  }
}

/** Runs a claimed export as its rebuilt actor; a permanent failure fails the job (and is not rethrown). */
async function runClaimed(job: JobHandle, attempt: number, input: unknown, env: Env, exec: ExecutionContext) {
  try {
    const exported = ExportInput.safeParse(input);
    if (!exported.success) throw new ValidationFailed([{ path: 'input', message: 'The job input is not valid.' }]);
    const actor = await rebuildActor(job.db, job.actor, { jti: job.jobId });
    // Checked here, before the action, so that a refusal is recorded once: on the job's failure event.
    for (const permission of EXPORT_PERMISSIONS) {
      if (!can(actor, permission)) throw new InsufficientPermissions(permission);
    }
    const ctx = createContext({ actor, requestId: job.requestId, env, db: job.db, exec });
    const run = { jobId: job.jobId, attempt, documentId: exported.data.documentId };
    await runInContext(ctx, async () => {
      const finished = await runExport(ctx, run);
      if (!finished) log({ level: 'warn', msg: 'job was taken over by another run', jobId: job.jobId, attempt });
    });
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    const code = clientErrorCode(error);
    const outcome = code === 'INSUFFICIENT_PERMISSIONS' ? 'denied' : 'failure';
    await failJob(job, { attempt, code, action: 'exports.run', outcome });
  }
}
