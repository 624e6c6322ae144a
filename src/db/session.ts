/**
 * The tenant session: every database access of the request path goes through `runScoped`, which sends
 * its statements as one Neon HTTP batch — one round trip, one transaction — whose first statement
 * switches to the `signet_app` role (neither owner nor BYPASSRLS) and sets the scope that the row-level
 * security policies read (migrations/0001_tenant_security.sql). Settings are transaction-local
 * (`set_config(…, true)`), so nothing leaks to the next use of a pooled connection.
 *
 * It knows scopes, not actors or policies: callers decide what a scope may be.
 */

import { sql } from 'drizzle-orm';
import type { BatchItem, BatchResponse } from 'drizzle-orm/batch';
import type { Database } from './client.ts';
import { toDomainError } from './errors.ts';

export interface SessionScope {
  /** The tenant; null for a session that may touch no tenant rows. */
  readonly organizationId: string | null;
  /** Who acts, recorded in the session for the audit trail. */
  readonly actorType: string;
  readonly actorId: string;
  /** A user actor's id: lets the user read their own memberships in other organizations. */
  readonly userId?: string | null;
  /** The system actor's bootstrap actions only (SPEC §1). */
  readonly bootstrap?: boolean;
  /** Guest reads of `visibility = 'public'` documents only. */
  readonly publicRead?: boolean;
  /**
   * The system actor's scheduled maintenance only (`jobs/maintenance.ts`): the narrow cross-tenant
   * policies of migrations/0006_jobs_maintenance.sql. Never set for a business action.
   */
  readonly maintenance?: boolean;
}

type Statements = readonly [BatchItem<'pg'>, ...BatchItem<'pg'>[]];

export async function runScoped<const Q extends Statements>(
  db: Database,
  scope: SessionScope,
  statements: Q,
): Promise<BatchResponse<Q>> {
  try {
    const [, ...results] = await db.batch([scopeStatement(db, scope), ...statements]);
    return results as BatchResponse<Q>;
  } catch (error) {
    throw toDomainError(error);
  }
}

function scopeStatement(db: Database, scope: SessionScope) {
  return db.execute(sql`select
    set_config('role', 'signet_app', true),
    set_config('app.organization_id', ${scope.organizationId ?? ''}, true),
    set_config('app.user_id', ${scope.userId ?? ''}, true),
    set_config('app.actor_type', ${scope.actorType}, true),
    set_config('app.actor_id', ${scope.actorId}, true),
    set_config('app.bootstrap', ${scope.bootstrap ? 'on' : ''}, true),
    set_config('app.public_read', ${scope.publicRead ? 'on' : ''}, true),
    set_config('app.maintenance', ${scope.maintenance ? 'on' : ''}, true)`);
}
