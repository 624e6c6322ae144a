/**
 * What the Worker hands to itself across a platform boundary, never a token or a serialized actor:
 *
 * - the jobs queue's messages (SPEC §3): the job's id and a *reference* to the actor who asked for it —
 *   type, id, organization. The consumer rebuilds the actor from the database when the job runs
 *   (`identity/rebuild-actor.ts`), so it acts with the role and membership of that moment, not of the
 *   enqueue;
 * - the organization-deletion workflow's parameters: the initiating owner as a reference, and ids.
 *
 * A leaf: `env.ts` types its queue and workflow bindings with these, so this module imports nothing of
 * src/ (see `.dependency-cruiser.cjs`).
 */
import * as z from 'zod';

export const ActorReference = z.strictObject({
  type: z.enum(['user', 'service', 'agent']),
  id: z.uuid(),
  organizationId: z.uuid(),
});

export type ActorReference = z.infer<typeof ActorReference>;

export const JobMessage = z.strictObject({
  kind: z.literal('export'),
  jobId: z.uuid(),
  actor: ActorReference,
});

export type JobMessage = z.infer<typeof JobMessage>;

/**
 * @example
 * await env.JOBS.send(exportMessage(job.id, { type: 'user', id: user.id, organizationId }))
 */
export function exportMessage(jobId: string, actor: Readonly<ActorReference>): JobMessage {
  return { kind: 'export', jobId, actor: { type: actor.type, id: actor.id, organizationId: actor.organizationId } };
}

/** What the organization-deletion workflow carries: an actor reference and ids. */
export interface DeletionParams {
  deletionId: string;
  owner: { type: 'user'; id: string; organizationId: string };
  requestId: string;
}
