/**
 * Membership management (SPEC §1/§3). An admin may add, change and remove viewers and editors; only
 * an owner (`members:grant_admin`) may grant, change or take `admin`/`owner`; removing or demoting the
 * last owner is refused with 409. Removing a member or changing their role revokes the tokens they hold
 * for the organization (their role is in the token), recorded in the same transaction as the change.
 */
import { and, eq, type SQL, sql } from 'drizzle-orm';
import type * as z from 'zod';
import type { AddMember, ChangeMember } from '../contract/requests.ts';
import { memberships, users } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import { Conflict, InsufficientPermissions, NotFound, ValidationFailed } from '../errors.ts';
import { noteRevocation, revokedCte } from '../identity/revocations.ts';
import { can } from '../policy/authorize.ts';
import { isRole, type Role } from '../policy/permissions.ts';
import { defineAction } from './action.ts';
import { auditedCte, withAudit } from './audit.ts';
import { resourceId } from './ids.ts';
import { revokeInRooms } from './rooms.ts';
import type { TenantContext } from './tenant.ts';

export interface MemberView {
  userId: string;
  /** Null for a user who signed in through a provider that did not verify an email. */
  email: string | null;
  name: string | null;
  role: Role;
  createdAt: string;
}

const PRIVILEGED: ReadonlySet<Role> = new Set(['admin', 'owner']);

function userId(id: string): string {
  return resourceId(id);
}

/** Admin and owner are granted and taken by `members:grant_admin` only. */
function assertMayTouch(ctx: TenantContext, ...roles: Role[]): void {
  if (roles.some((r) => PRIVILEGED.has(r)) && !can(ctx.actor, 'members:grant_admin')) {
    throw new InsufficientPermissions('members:grant_admin');
  }
}

async function currentRole(ctx: TenantContext, id: string): Promise<Role> {
  const { db } = ctx;
  const [rows] = await runScoped(db, ctx.scope, [
    db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.organizationId, ctx.organizationId), eq(memberships.userId, id))),
  ]);
  const role = rows[0]?.role;
  if (!isRole(role)) throw new NotFound();
  return role;
}

export const listMembers = defineAction({
  name: 'members.list',
  permission: 'members:read',
  resource: 'member',
  async run(ctx, _input: undefined) {
    const { db } = ctx;
    const [rows] = await runScoped(db, ctx.scope, [
      db
        .select({
          userId: memberships.userId,
          email: users.email,
          name: users.name,
          role: memberships.role,
          createdAt: memberships.createdAt,
        })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(eq(memberships.organizationId, ctx.organizationId))
        .orderBy(memberships.createdAt),
    ]);
    return rows.map((r): MemberView => ({ ...r, role: r.role as Role, createdAt: r.createdAt.toISOString() }));
  },
});

export const addMember = defineAction({
  name: 'members.add',
  permission: 'members:write',
  resource: 'member',
  async run(ctx, input: z.infer<typeof AddMember>) {
    assertMayTouch(ctx, input.role);
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(
        withAudit(
          ctx,
          sql`insert into memberships (organization_id, user_id, role)
              values (${ctx.organizationId}, signet_user_id_for_email(${input.email}), ${input.role})
              returning user_id as "userId", user_id as "resourceId", role, created_at as "createdAt"`,
        ),
      ),
    ]);
    const row = result.rows[0] as { userId: string; role: Role; createdAt: Date };
    return {
      userId: row.userId,
      email: input.email.toLowerCase(),
      name: null,
      role: row.role,
      createdAt: new Date(row.createdAt).toISOString(),
    } satisfies MemberView;
  },
});

export const changeMemberRole = defineAction({
  name: 'members.change_role',
  permission: 'members:write',
  resource: 'member',
  resourceId: (input: { userId: string }) => input.userId,
  after: [
    async function closeSockets(ctx, _input, result: { userId: string; role: string; revokedAt: number }) {
      await revokeInRooms(ctx.env, ctx.organizationId, 'user', result.userId, result.revokedAt);
    },
  ],
  async run(ctx, input: { userId: string } & z.infer<typeof ChangeMember>) {
    const id = userId(input.userId);
    const from = await currentRole(ctx, id);
    assertMayTouch(ctx, from, input.role);
    if (from === input.role)
      throw new ValidationFailed([{ path: 'role', message: 'The member already has this role.' }]);
    const revokedAt = await writeGuarded(
      ctx,
      id,
      from,
      from === 'owner',
      (guard) =>
        sql`update memberships set role = ${input.role}
          where organization_id = ${ctx.organizationId} and user_id = ${id} and role = ${from} and ${guard}
          returning user_id as "resourceId"`,
    );
    noteRevocation(ctx.organizationId, 'user', id, revokedAt);
    // When the revocation was committed (database time): the rooms' line too (not part of the answer).
    return { userId: id, role: input.role, revokedAt: revokedAt.getTime() };
  },
});

export const removeMember = defineAction({
  name: 'members.remove',
  permission: 'members:write',
  resource: 'member',
  resourceId: (id: string) => id,
  after: [
    async function closeSockets(ctx, _id, result: { userId: string; revokedAt: number }) {
      await revokeInRooms(ctx.env, ctx.organizationId, 'user', result.userId, result.revokedAt);
    },
  ],
  async run(ctx, rawId: string) {
    const id = userId(rawId);
    const from = await currentRole(ctx, id);
    assertMayTouch(ctx, from);
    const revokedAt = await writeGuarded(
      ctx,
      id,
      from,
      from === 'owner',
      (guard) =>
        sql`delete from memberships
          where organization_id = ${ctx.organizationId} and user_id = ${id} and role = ${from} and ${guard}
          returning user_id as "resourceId"`,
    );
    noteRevocation(ctx.organizationId, 'user', id, revokedAt);
    return { userId: id, revokedAt: revokedAt.getTime() };
  },
});

/**
 * The change, its audit event and the revocation of the member's tokens, in one transaction. The
 * change only applies while the member still has the role we checked (`role = from`); when it takes
 * an owner away, the organization's owner rows are locked first and the change only applies if
 * another owner remains (`guard`) — so two concurrent demotions can't leave no owner.
 */
async function writeGuarded(
  ctx: TenantContext,
  id: string,
  from: Role,
  takesAnOwner: boolean,
  change: (guard: SQL) => SQL,
): Promise<Date> {
  const { db } = ctx;
  const guard = takesAnOwner
    ? sql`(select count(*) from memberships where organization_id = ${ctx.organizationId} and role = 'owner') > 1`
    : sql`true`;
  const [, result] = await runScoped(db, ctx.scope, [
    db.execute(
      sql`select user_id from memberships where organization_id = ${ctx.organizationId} and role = 'owner' for update`,
    ),
    // Every part of one statement sees the same snapshot: `ok` is the guard before the change.
    db.execute(sql`with changed as (${change(guard)}), ${auditedCte(ctx)}, ${revokedCte(ctx.organizationId, 'user', id)}
      select ${guard} as ok, (select revoked_at from revoked) as "revokedAt"`),
  ]);
  const row = result.rows[0] as { ok: boolean; revokedAt: Date | null };
  if (!row.revokedAt && !row.ok) throw new Conflict('An organization must keep at least one owner.');
  if (!row.revokedAt) throw new Conflict(`The member's role changed meanwhile (was ${from}); reload and retry.`);
  return new Date(row.revokedAt);
}
