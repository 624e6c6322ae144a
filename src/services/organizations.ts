/**
 * `POST /v1/orgs` (SPEC §3): a user creates an organization and becomes its first owner. Creating an
 * organization is a bootstrap action of the system actor (SPEC §1): the caller has no role in an
 * organization that doesn't exist yet. Organization, membership and audit event are one transaction.
 */
import { sql } from 'drizzle-orm';
import type * as z from 'zod';
import type { UserActor } from '../actor/actor.ts';
import { systemActor } from '../actor/system.ts';
import type { Context } from '../context.ts';
import type { CreateOrganization } from '../contract/requests.ts';
import { bootstrapScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';
import { assertSystemAction } from '../policy/system-actions.ts';
import { assertHasActor } from './tenant.ts';

export async function createOrganization(ctx: Context<UserActor>, input: z.infer<typeof CreateOrganization>) {
  assertHasActor(ctx);
  const system = systemActor('create organization');
  assertSystemAction(system, 'bootstrap:create-organization');
  const { db, actor } = ctx;
  const id = crypto.randomUUID();
  // The session is scoped to the new organization, so membership and audit rows pass RLS like any
  // tenant write; `bootstrap` is what lets the organization row itself be inserted.
  const [rows] = await runScoped(db, bootstrapScope(system.reason, id), [
    db.execute(sql`with org as (
        insert into organizations (id, name, slug) values (${id}, ${input.name}, ${input.slug})
        returning id, name, slug, created_at
      ), owner as (
        insert into memberships (organization_id, user_id, role) select id, ${actor.id}, 'owner' from org
      ), audited as (
        insert into audit_events (organization_id, actor_type, actor_id, action, resource_type, resource_id, outcome, request_id)
        select id, 'user', ${actor.id}, 'organizations.create', 'organization', id::text, 'success', ${ctx.requestId} from org
      ) select id, name, slug, created_at as "createdAt" from org`),
  ]);
  const row = rows.rows[0] as { id: string; name: string; slug: string; createdAt: Date };
  return { organization: { ...row, createdAt: new Date(row.createdAt).toISOString() }, role: 'owner' as const };
}
