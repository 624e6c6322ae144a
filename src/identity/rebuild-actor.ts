/**
 * Rebuilds a token actor from an actor reference (SPEC §3: background jobs, and later workflow steps),
 * reading what the actor may do *now* from the database — never from the message that carried the
 * reference:
 *
 * - user: its current role in the organization (a tenant-scoped read as that user);
 * - service: its API key, which must not be revoked, with its scopes capped by what the key's creator
 *   may do now (the same rule as the token exchange);
 * - agent: its delegation, which must not be ended or expired, with its scopes capped by what its user
 *   may do now.
 *
 * A reference that no longer stands for anyone — a removed member, a revoked key — is refused with
 * `InsufficientPermissions`. The actor's token facts are synthetic (no token was presented): a short
 * lifetime, so it can't be mistaken for a long-lived credential.
 */
import { and, eq } from 'drizzle-orm';
import type { ActorRef, TokenActor } from '../actor/actor.ts';
import type { Database } from '../db/client.ts';
import { apiKeys, delegations, memberships } from '../db/schema.ts';
import { tenantScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';
import { InsufficientPermissions } from '../errors.ts';
import { capToGrantor } from '../policy/authorize.ts';
import { isRole } from '../policy/permissions.ts';

/** Seconds a rebuilt actor's synthetic token facts are valid for. */
export const REBUILT_LIFETIME_SECONDS = 60;

export interface RebuildOptions {
  /** The synthetic token id, e.g. the job's id; random by default. */
  readonly jti?: string;
  /** Seconds since the epoch; injectable for tests. */
  readonly now?: number;
}

/**
 * @example
 * const actor = await rebuildActor(db, { type: 'user', id: userId, organizationId }, { jti: jobId })
 */
export async function rebuildActor(db: Database, ref: ActorRef, options: RebuildOptions = {}): Promise<TokenActor> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const token = { jti: options.jti ?? crypto.randomUUID(), issuedAt: now, expiresAt: now + REBUILT_LIFETIME_SECONDS };
  const scope = tenantScope(ref);
  if (ref.type === 'user') {
    const [rows] = await runScoped(db, scope, [
      db
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.organizationId, ref.organizationId), eq(memberships.userId, ref.id))),
    ]);
    const role = rows[0]?.role;
    if (!isRole(role)) throw new InsufficientPermissions();
    return { type: 'user', id: ref.id, organizationId: ref.organizationId, role, sessionId: token.jti, token };
  }
  if (ref.type === 'agent') {
    const [rows] = await runScoped(db, scope, [
      db
        .select({
          userId: delegations.userId,
          name: delegations.agentName,
          scopes: delegations.scopes,
          endedAt: delegations.endedAt,
          expiresAt: delegations.expiresAt,
          userRole: memberships.role,
        })
        .from(delegations)
        .leftJoin(
          memberships,
          and(eq(memberships.organizationId, delegations.organizationId), eq(memberships.userId, delegations.userId)),
        )
        .where(and(eq(delegations.id, ref.id), eq(delegations.organizationId, ref.organizationId))),
    ]);
    const delegation = rows[0];
    if (!delegation || delegation.endedAt !== null || delegation.expiresAt.getTime() <= now * 1000) {
      throw new InsufficientPermissions();
    }
    return {
      type: 'agent',
      id: ref.id,
      organizationId: ref.organizationId,
      onBehalfOf: { type: 'user', id: delegation.userId },
      name: delegation.name,
      scopes: capToGrantor(delegation.scopes, delegation.userRole),
      token,
    };
  }
  const [rows] = await runScoped(db, scope, [
    db
      .select({
        scopes: apiKeys.scopes,
        revokedAt: apiKeys.revokedAt,
        createdBy: apiKeys.createdBy,
        creatorRole: memberships.role,
      })
      .from(apiKeys)
      .leftJoin(
        memberships,
        and(eq(memberships.organizationId, apiKeys.organizationId), eq(memberships.userId, apiKeys.createdBy)),
      )
      .where(and(eq(apiKeys.id, ref.id), eq(apiKeys.organizationId, ref.organizationId))),
  ]);
  const key = rows[0];
  if (!key || key.revokedAt !== null) throw new InsufficientPermissions();
  const scopes = capToGrantor(key.scopes, key.creatorRole);
  return { type: 'service', id: ref.id, organizationId: ref.organizationId, scopes, grantor: key.createdBy, token };
}
