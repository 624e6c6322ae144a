/**
 * Delegations (SPEC §1 agents, §2 token exchange, §3 endpoints): a user hands part of their authority
 * to an agent. Each token exchange writes one delegation (id, user, agent name, scopes, created,
 * expires, ended) with its audit event in one transaction; the agent's token names it (`act.sub`).
 *
 * Derived authority: an agent's chain is its delegation, then its user (`chainOf`). Ending the
 * delegation writes a revocation for it; demoting or removing the user writes one for the user; either
 * refuses the agent's tokens (at once here, within 30 s elsewhere) and closes its sockets with 4003.
 *
 * Owns: the delegation records and their rules. Doesn't own: verifying the subject token or signing
 * (`auth/exchange-token.ts`).
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { delegations } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import { InsufficientPermissions, NotFound } from '../errors.ts';
import { databaseNow, noteRevocation, revokedCte } from '../identity/revocations.ts';
import { NEVER_DELEGATED } from '../policy/authorize.ts';
import { type Permission, permissionsOf, type Role } from '../policy/permissions.ts';
import { defineAction } from './action.ts';
import { auditedCte, withAudit } from './audit.ts';
import { resourceId } from './ids.ts';
import { revokeInRooms } from './rooms.ts';
import type { TenantContext } from './tenant.ts';

export interface DelegationView {
  id: string;
  agent: { name: string };
  scopes: string[];
  createdAt: string;
  expiresAt: string;
  endedAt: string | null;
}

interface Row {
  id: string;
  agentName: string;
  scopes: string[];
  createdAt: Date | string;
  expiresAt: Date | string;
  endedAt: Date | string | null;
}

function view(row: Row): DelegationView {
  return {
    id: row.id,
    agent: { name: row.agentName },
    scopes: row.scopes,
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
    endedAt: row.endedAt === null ? null : new Date(row.endedAt).toISOString(),
  };
}

/** Only a user delegates, and only their own authority. */
function delegatingUser(ctx: TenantContext): string {
  if (ctx.actor.type !== 'user') throw new InsufficientPermissions();
  return ctx.actor.id;
}

export interface DelegationRequest {
  readonly name: string;
  readonly scopes: readonly Permission[];
  /** The role the exchange read (share-locked) for the user just now. */
  readonly roleNow: Role;
  readonly expiresAt: Date;
}

/**
 * Records a delegation from the calling user. The scopes must be a subset of what the user may do now
 * and never what is not delegable (API keys, members, organization deletion): else 403, audited.
 */
export const createDelegation = defineAction({
  name: 'delegations.create',
  permission: null,
  resource: 'delegation',
  async run(ctx, input: DelegationRequest) {
    const userId = delegatingUser(ctx);
    const mine = permissionsOf(input.roleNow);
    const refused = input.scopes.find((p) => NEVER_DELEGATED.has(p) || !mine.has(p));
    if (refused !== undefined) throw new InsufficientPermissions(refused);
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(
        withAudit(
          ctx,
          sql`insert into delegations (organization_id, user_id, agent_name, scopes, expires_at)
              values (${ctx.organizationId}, ${userId}, ${input.name}, string_to_array(${input.scopes.join(' ')}, ' '),
                      ${input.expiresAt})
              returning id, id as "resourceId", agent_name as "agentName", scopes, created_at as "createdAt",
                        expires_at as "expiresAt", ended_at as "endedAt"`,
        ),
      ),
    ]);
    return view(result.rows[0] as unknown as Row);
  },
});

/** `GET /v1/delegations`: the caller's own delegations in the organization, newest first. */
export const listDelegations = defineAction({
  name: 'delegations.list',
  permission: null,
  resource: 'delegation',
  async run(ctx, _input: undefined) {
    const userId = delegatingUser(ctx);
    const { db } = ctx;
    const [rows] = await runScoped(db, ctx.scope, [
      db
        .select({
          id: delegations.id,
          agentName: delegations.agentName,
          scopes: delegations.scopes,
          createdAt: delegations.createdAt,
          expiresAt: delegations.expiresAt,
          endedAt: delegations.endedAt,
        })
        .from(delegations)
        .where(and(eq(delegations.organizationId, ctx.organizationId), eq(delegations.userId, userId)))
        .orderBy(desc(delegations.createdAt))
        .limit(100),
    ]);
    return rows.map(view);
  },
});

/**
 * `DELETE /v1/delegations/:id`: ends one of the caller's delegations. Its tokens are revoked in the
 * same transaction and its sockets closed (4003). Another user's, unknown or already ended: 404.
 */
export const endDelegation = defineAction({
  name: 'delegations.end',
  permission: null,
  resource: 'delegation',
  resourceId: (id: string) => id,
  after: [
    async function closeSockets(ctx, _id, result: { id: string; revokedAt: number }) {
      await revokeInRooms(ctx.env, ctx.organizationId, 'agent', result.id, result.revokedAt);
    },
  ],
  async run(ctx, rawId: string) {
    const userId = delegatingUser(ctx);
    const id = resourceId(rawId);
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(sql`with changed as (
          update delegations set ended_at = ${databaseNow}
          where id = ${id} and organization_id = ${ctx.organizationId} and user_id = ${userId} and ended_at is null
          returning id as "resourceId"
        ), ${auditedCte(ctx)}, ${revokedCte(ctx.organizationId, 'agent', sql`"resourceId"`)}
        select (select revoked_at from revoked) as "revokedAt"`),
    ]);
    const revokedAt = (result.rows[0] as { revokedAt: Date | string | null } | undefined)?.revokedAt;
    if (!revokedAt) throw new NotFound();
    noteRevocation(ctx.organizationId, 'agent', id, new Date(revokedAt));
    return { id, revokedAt: new Date(revokedAt).getTime() };
  },
});
