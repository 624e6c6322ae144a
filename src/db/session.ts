/**
 * The tenant session: every database access of the request path goes through `runScoped`, which sends
 * its statements as one Neon HTTP batch — one round trip, one transaction — whose first statement
 * switches to the `signet_app` role (neither owner nor BYPASSRLS) and sets the scope that the row-level
 * security policies read (migrations/0001_tenant_security.sql). Settings are transaction-local
 * (`set_config(…, true)`), so nothing leaks to the next use of a pooled connection.
 *
 * It knows scopes, not actors or policies: the scopes themselves, every row-level-security mode, are
 * made in `scopes.ts`.
 */

import { sql } from 'drizzle-orm';
import type { BatchItem, BatchResponse } from 'drizzle-orm/batch';
import type { Database } from './client.ts';
import { toDomainError } from './errors.ts';
import type { SessionScope } from './scopes.ts';

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
