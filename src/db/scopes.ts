/**
 * Session scopes: every row-level-security mode of the database, in one place. A scope is what
 * `runScoped` (`session.ts`) sets for one transaction — the tenant, who acts, and at most one of the
 * narrow modes below — and what the policies of `migrations/` read (`app.organization_id`,
 * `app.user_id`, `app.bootstrap`, `app.public_read`, `app.maintenance`; none set matches no row).
 *
 * A scope can only be made by the constructors here: `SessionScope` carries a brand that no object
 * literal has, so a hand-written scope elsewhere is a type error, and adding a mode means adding a
 * constructor to this file. It knows scopes, not policies: callers decide who may use which (the
 * system actor's modes are checked by `policy/system-actions.ts` before they are asked for).
 */

declare const brand: unique symbol;

export interface SessionScope {
  /** The tenant; null for a session that may touch no tenant rows. */
  readonly organizationId: string | null;
  /** Who acts, recorded in the session for the audit trail. */
  readonly actorType: string;
  readonly actorId: string;
  /** A user actor's id: lets the user read their own memberships (and deletions) in other organizations. */
  readonly userId: string | null;
  /** The system actor's bootstrap actions only (SPEC §1). */
  readonly bootstrap: boolean;
  /** Guest reads of `visibility = 'public'` documents only. */
  readonly publicRead: boolean;
  /**
   * The system actor's scheduled maintenance only (`jobs/maintenance.ts`): the narrow cross-tenant
   * policies of migrations/0006_jobs_maintenance.sql. Never set for a business action.
   */
  readonly maintenance: boolean;
  readonly [brand]: true;
}

/** Whoever acts in an organization: a tenant actor (`{ type, id, organizationId }`) or an actor reference. */
export interface TenantPrincipal {
  readonly type: string;
  readonly id: string;
  readonly organizationId: string;
}

function scope(fields: Partial<Omit<SessionScope, typeof brand>> & Pick<SessionScope, 'actorType' | 'actorId'>) {
  return {
    organizationId: null,
    userId: null,
    bootstrap: false,
    publicRead: false,
    maintenance: false,
    ...fields,
  } as SessionScope;
}

/**
 * The tenant session of an actor, or of an actor reference (a job's, a workflow's), acting in its
 * organization: row-level security confines every statement to that organization. A user also sees
 * its own rows elsewhere (`app.user_id`).
 *
 * @example
 * runScoped(db, tenantScope({ type: 'user', id: userId, organizationId }), [ … ])
 */
export function tenantScope(actor: TenantPrincipal): SessionScope {
  return scope({
    organizationId: actor.organizationId,
    actorType: actor.type,
    actorId: actor.id,
    userId: actor.type === 'user' ? actor.id : null,
  });
}

/**
 * A user outside any tenant: exactly their own memberships and the deletions they started, in every
 * organization (`GET /v1/me/orgs`, `GET /v1/workflows/:id` with an org-less token).
 *
 * @example
 * runScoped(db, userScope(actor.id), [ … ])
 */
export function userScope(userId: string): SessionScope {
  return scope({ actorType: 'user', actorId: userId, userId });
}

/**
 * The system actor's bootstrap action (SPEC §1), named by its `reason`: loading a user or an API key
 * during a token exchange (no tenant), or creating an organization (scoped to the new one, so its
 * membership and audit rows pass row-level security like any tenant write).
 *
 * @example
 * runScoped(db, bootstrapScope(systemActor('token exchange').reason), [ … ])
 */
export function bootstrapScope(reason: string, organizationId: string | null = null): SessionScope {
  return scope({ organizationId, actorType: 'system', actorId: reason, bootstrap: true });
}

/**
 * The system actor's scheduled maintenance, named by its `reason`: jobs, audit events and revocations
 * across tenants, through the narrow policies of migrations/0006_jobs_maintenance.sql only.
 *
 * @example
 * runScoped(db, maintenanceScope('maintenance'), [ … ])
 */
export function maintenanceScope(reason: string): SessionScope {
  return scope({ actorType: 'system', actorId: reason, maintenance: true });
}

/**
 * Anyone's — a guest's included — read of public documents: rows with `visibility = 'public'` only.
 *
 * @example
 * runScoped(db, publicReadScope({ type: 'guest', id: requestId }), [ … ])
 */
export function publicReadScope(reader: { readonly type: string; readonly id: string }): SessionScope {
  return scope({ actorType: reader.type, actorId: reader.id, publicRead: true });
}

/**
 * The role a scope's session runs as: `signet_app` for a tenant or a user, and for each narrow mode a
 * role of its own, which alone its policies apply to (migrations/0014_mode_roles.sql) — so a tenant
 * session plans its tenant policies only, and a mode needs its role and its setting both. None owns a
 * table or bypasses row-level security.
 */
export function roleOf(scope: SessionScope): string {
  if (scope.bootstrap) return 'signet_bootstrap';
  if (scope.publicRead) return 'signet_public';
  if (scope.maintenance) return 'signet_maintenance';
  return 'signet_app';
}

/**
 * The scope statement: the role switch and every setting the policies read, all of them on every
 * transaction (a setting left out would read as whatever the connection's session holds), and the
 * transaction's `statement_timeout` (`session.ts`: the database's own deadline, inside the Worker's). Its
 * answer, the settings concatenated into one text column, is ignored.
 */
export const SCOPE_SQL = `select set_config('role', $1, true)
  || set_config('app.organization_id', $2, true) || set_config('app.user_id', $3, true)
  || set_config('app.actor_type', $4, true) || set_config('app.actor_id', $5, true)
  || set_config('app.bootstrap', $6, true) || set_config('app.public_read', $7, true)
  || set_config('app.maintenance', $8, true) || set_config('statement_timeout', $9, true)`;

/**
 * `SCOPE_SQL`'s parameters for a scope: its role, the settings as text, `''` for none and `'on'` for a
 * mode; then how long each statement of the transaction may run, in milliseconds.
 */
export function scopeParameters(scope: SessionScope, statementTimeoutMs: number): string[] {
  return [
    roleOf(scope),
    scope.organizationId ?? '',
    scope.userId ?? '',
    scope.actorType,
    scope.actorId,
    scope.bootstrap ? 'on' : '',
    scope.publicRead ? 'on' : '',
    scope.maintenance ? 'on' : '',
    String(statementTimeoutMs),
  ];
}
