/**
 * Session scopes are made in `src/db/scopes.ts` only. The `@ts-expect-error` lines are checked by
 * `npm run typecheck`: if a hand-written object literal ever passed as a `SessionScope` (say, the brand
 * were dropped), the directive would be unused and type-checking would fail.
 */
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import {
  bootstrapScope,
  maintenanceScope,
  publicReadScope,
  type SessionScope,
  tenantScope,
  userScope,
} from '../../src/db/scopes.ts';
import { runScoped } from '../../src/db/session.ts';

// Never called: only type-checked.
function compileTimeChecks() {
  const db = openDatabase(env);
  const literal = {
    organizationId: null,
    actorType: 'system',
    actorId: 'forged',
    userId: null,
    bootstrap: true,
    publicRead: false,
    maintenance: false,
  };
  // @ts-expect-error — an object literal is not a scope, however complete
  const forged: SessionScope = literal;
  // @ts-expect-error — nor can one be handed to the session
  void runScoped(db, { organizationId: null, actorType: 'user', actorId: 'x' }, [db.execute(sql`select 1`)]);
  return forged;
}

const user = crypto.randomUUID();
const organizationId = crypto.randomUUID();

describe('session scopes', () => {
  it('exist only as their constructors make them', () => {
    expect(typeof compileTimeChecks).toBe('function');
  });

  it('set one row-level-security mode each, and nothing else', () => {
    const none = { userId: null, bootstrap: false, publicRead: false, maintenance: false };
    expect(tenantScope({ type: 'user', id: user, organizationId })).toEqual({
      ...none,
      organizationId,
      actorType: 'user',
      actorId: user,
      userId: user,
    });
    // Only a user reads its own rows elsewhere: a service or an agent is confined to the tenant.
    expect(tenantScope({ type: 'service', id: user, organizationId })).toEqual({
      ...none,
      organizationId,
      actorType: 'service',
      actorId: user,
    });
    expect(userScope(user)).toEqual({ ...none, organizationId: null, actorType: 'user', actorId: user, userId: user });
    expect(bootstrapScope('token exchange')).toEqual({
      ...none,
      organizationId: null,
      actorType: 'system',
      actorId: 'token exchange',
      bootstrap: true,
    });
    expect(bootstrapScope('create organization', organizationId)).toMatchObject({ organizationId, bootstrap: true });
    expect(maintenanceScope('maintenance')).toEqual({
      ...none,
      organizationId: null,
      actorType: 'system',
      actorId: 'maintenance',
      maintenance: true,
    });
    expect(publicReadScope({ type: 'guest', id: 'request-1' })).toEqual({
      ...none,
      organizationId: null,
      actorType: 'guest',
      actorId: 'request-1',
      publicRead: true,
    });
  });

  it('reach the database as the settings the policies read', async () => {
    const db = openDatabase(env);
    const settings = sql`select current_setting('app.organization_id', true) as org, current_setting('app.user_id', true) as "user",
      current_setting('app.actor_type', true) as type, current_setting('app.bootstrap', true) as bootstrap,
      current_setting('app.public_read', true) as public, current_setting('app.maintenance', true) as maintenance`;
    const [tenant] = await runScoped(db, tenantScope({ type: 'user', id: user, organizationId }), [
      db.execute(settings),
    ]);
    expect(tenant.rows[0]).toEqual({
      org: organizationId,
      user,
      type: 'user',
      bootstrap: '',
      public: '',
      maintenance: '',
    });
    const [maintenance] = await runScoped(db, maintenanceScope('maintenance'), [db.execute(settings)]);
    expect(maintenance.rows[0]).toEqual({
      org: '',
      user: '',
      type: 'system',
      bootstrap: '',
      public: '',
      maintenance: 'on',
    });
  });
});
