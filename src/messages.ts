/**
 * What the jobs queue carries (SPEC §3): the job's id and a *reference* to the actor who asked for it —
 * type, id, organization — never a token or a serialized actor. The consumer rebuilds the actor from the
 * database when the job runs (`rebuild-actor.ts`), so it acts with the role and membership of that
 * moment, not of the enqueue.
 */
import * as z from 'zod';
import type { ActorRef } from './actor/actor.ts';

export const ActorReference = z.strictObject({
  type: z.enum(['user', 'service', 'agent']),
  id: z.uuid(),
  organizationId: z.uuid(),
});

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
export function exportMessage(jobId: string, actor: ActorRef): JobMessage {
  return { kind: 'export', jobId, actor: { type: actor.type, id: actor.id, organizationId: actor.organizationId } };
}
