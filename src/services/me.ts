/** `GET /v1/me/orgs`: the organizations the user actor belongs to, with the role in each. */
import { eq } from 'drizzle-orm';
import type { UserActor } from '../actor/actor.ts';
import type { Context } from '../context.ts';
import { memberships, organizations } from '../db/schema.ts';
import { userScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';

export interface Membership {
  id: string;
  name: string;
  slug: string;
  role: string;
}

export async function listMyOrganizations(ctx: Context<UserActor>): Promise<Membership[]> {
  const { db, actor } = ctx;
  // The session names the user, not a tenant: RLS shows exactly this user's memberships.
  const [rows] = await runScoped(db, userScope(actor.id), [
    db
      .select({ id: organizations.id, name: organizations.name, slug: organizations.slug, role: memberships.role })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
      .where(eq(memberships.userId, actor.id))
      .orderBy(organizations.name),
  ]);
  return rows;
}
