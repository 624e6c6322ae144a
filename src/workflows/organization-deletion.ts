/**
 * The organization-deletion workflow (SPEC §3), on Cloudflare Workflows: durable, each step retried on
 * transient failure. Every step rebuilds the initiating owner from the actor reference in the workflow's
 * parameters — the owner's current membership, read at that step — and runs one action of
 * `services/organization-deletion.ts` through the same policy (`org:delete`), tenant session and audit
 * as a request. If the owner lost `org:delete`, the step fails for good with `INSUFFICIENT_PERMISSIONS`
 * and nothing after it runs. The system actor is never used.
 *
 * Owns: step order, retries, step bookkeeping in the deletion record. Doesn't own: what a step does.
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers';
import { NonRetryableError } from 'cloudflare:workflows';
import { type Context, createContext, runInContext } from '../context.ts';
import { openDatabase } from '../db/client.ts';
import { type SessionScope, tenantScope } from '../db/scopes.ts';
import type { Env } from '../env.ts';
import { clientErrorCode, type ErrorCode, PERMANENT_FAILURES } from '../errors.ts';
import { rebuildActor } from '../identity/rebuild-actor.ts';
import type { DeletionParams } from '../messages.ts';
import { log } from '../observability/log.ts';
import {
  closeOrganizationRooms,
  type DeletionStep,
  deleteOrganizationData,
  finishDeletion,
  markStep,
  revokeOrganizationAccess,
  writeFinalExport,
} from '../services/organization-deletion.ts';

const STEPS: readonly [DeletionStep, (ctx: Context, deletionId: string) => Promise<unknown>][] = [
  ['revoke-access', revokeOrganizationAccess],
  ['close-rooms', closeOrganizationRooms],
  ['final-export', writeFinalExport],
  ['delete-data', deleteOrganizationData],
];

/**
 * Transient failures (the database unreachable, …) retry with backoff; permanent ones
 * (`PERMANENT_FAILURES`, the same set as a job's) don't.
 */
const STEP_CONFIG = { retries: { limit: 4, delay: '1 second', backoff: 'exponential' }, timeout: '5 minutes' } as const;
/**
 * A step's slowest batch (the final export, the cascade delete: one statement each, which grows with the
 * organization) may wait four and a half minutes, and its statement run 3.6 (`session.ts`): half a minute
 * of the step's five is left to record a failure on the deletion (`markStep`) before the step times out.
 */
const STEP_ANSWER_WITHIN_MS = 270_000;
/** In-flight requests holding a just-revoked token get this long to finish before rooms close. */
const DRAIN = '2 seconds';

export class OrgDeletionWorkflow extends WorkflowEntrypoint<Env, DeletionParams> {
  override async run(
    event: Readonly<WorkflowEvent<DeletionParams>>,
    step: WorkflowStep,
  ): Promise<{ status: 'succeeded' }> {
    const params = event.payload;
    // The code of the last step attempt that failed, kept as a value: the error a step rethrows once its
    // retries are spent comes back through the engine and may no longer be the domain error it was.
    const failure: { code: ErrorCode | null } = { code: null };
    let refused: ErrorCode | null = null;
    try {
      for (const [name, action] of STEPS) {
        if (name === 'close-rooms') await step.sleep('drain in-flight requests', DRAIN);
        const outcome = await step.do(name, STEP_CONFIG, ({ attempt }) =>
          this.#runStep(params, name, action, attempt, failure),
        );
        if (!outcome.ok) {
          refused = outcome.code;
          break;
        }
      }
      if (refused === null) {
        await step.do('record success', async () => {
          await finishDeletion(this.#bookkeeping(params), params.deletionId, 'succeeded');
          return { status: 'succeeded' };
        });
        return { status: 'succeeded' };
      }
    } catch (error) {
      await this.#recordFailure(step, params, failure.code ?? clientErrorCode(error));
      throw error;
    }
    await this.#recordFailure(step, params, refused);
    // Ends the workflow `failed` without another try.
    throw new NonRetryableError(`organization deletion stopped: ${refused}`, refused);
  }

  async #recordFailure(step: WorkflowStep, params: DeletionParams, code: ErrorCode): Promise<void> {
    await step.do('record failure', async () => {
      await finishDeletion(this.#bookkeeping(params), params.deletionId, 'failed', code);
      return { status: 'failed', code };
    });
  }

  async #runStep(
    params: DeletionParams,
    name: DeletionStep,
    action: (ctx: Context, deletionId: string) => Promise<unknown>,
    attempt: number,
    failure: { code: ErrorCode | null },
  ): Promise<{ ok: true } | { ok: false; code: ErrorCode }> {
    const bookkeeping = this.#bookkeeping(params);
    await markStep(bookkeeping, params.deletionId, name, {
      status: 'running',
      attempts: attempt,
      at: new Date().toISOString(),
    });
    try {
      // The owner as they are now, not as they were when the deletion was requested.
      const owner = await rebuildActor(bookkeeping.db, params.owner, {
        jti: `${params.deletionId}:${name}:${attempt}`,
      });
      const ctx = createContext({
        actor: owner,
        requestId: params.requestId,
        env: this.env,
        db: bookkeeping.db,
        exec: this.ctx,
      });
      await runInContext(ctx, () => action(ctx, params.deletionId));
    } catch (error) {
      const code = clientErrorCode(error);
      const permanent = PERMANENT_FAILURES.has(code);
      failure.code = code;
      log({
        level: permanent ? 'warn' : 'error',
        msg: `organization deletion step ${name} failed${permanent ? '' : '; it will be retried'}`,
        code,
        requestId: params.requestId,
        actor: { type: 'user', id: params.owner.id },
        organizationId: params.owner.organizationId,
      });
      await markStep(bookkeeping, params.deletionId, name, {
        status: permanent ? 'failed' : 'running',
        attempts: attempt,
        at: new Date().toISOString(),
        error: { code },
      }).catch(() => {}); // the database may be what failed: the step's error is the one that matters
      // A refusal ends the step (and the workflow) without a retry; anything else is retried.
      if (permanent) return { ok: false, code };
      throw error;
    }
    failure.code = null;
    await markStep(bookkeeping, params.deletionId, name, {
      status: 'succeeded',
      attempts: attempt,
      at: new Date().toISOString(),
    });
    return { ok: true };
  }

  /** The session for the record's own bookkeeping: the organization's tenant scope, as the owner. */
  #bookkeeping(params: DeletionParams): {
    db: ReturnType<typeof openDatabase>;
    scope: SessionScope;
    organizationId: string;
    principal: { type: 'user'; id: string };
    requestId: string;
  } {
    return {
      db: openDatabase(this.env, STEP_ANSWER_WITHIN_MS),
      organizationId: params.owner.organizationId,
      principal: { type: 'user', id: params.owner.id },
      requestId: params.requestId,
      scope: tenantScope(params.owner),
    };
  }
}
