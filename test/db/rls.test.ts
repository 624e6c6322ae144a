/**
 * Defence in depth: row-level security confines even a query that forgets its WHERE clause, on the
 * embedded database and on real Postgres alike.
 */
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { bootstrapScope, maintenanceScope, publicReadScope, tenantScope, userScope } from '../../src/db/scopes.ts';
import { runScoped } from '../../src/db/session.ts';
import { addMembership, adminSql, createDocument, createOrganization, database, unique } from '../support/database.ts';

const TENANT_TABLES = ['memberships', 'documents', 'api_keys', 'audit_events', 'jobs', 'revocations'];

describe('row-level security', () => {
  let a: { id: string };
  let b: { id: string };

  beforeAll(async () => {
    [a, b] = await Promise.all([createOrganization(), createOrganization()]);
    await createDocument(a.id, { title: 'A1' });
    await createDocument(a.id, { title: 'A2' });
    await createDocument(b.id, { title: 'B1' });
    const admin = adminSql();
    for (const org of [a, b]) {
      await admin`insert into audit_events (organization_id, actor_type, actor_id, action, resource_type, resource_id, outcome, request_id)
        values (${org.id}, 'user', 'x', 'test', 'test', 'x', 'success', 'r')`;
    }
  });

  // A tenant session, or — without an organization — a user's, of a user who belongs to none.
  const scope = (organizationId: string | null) =>
    organizationId === null
      ? userScope(crypto.randomUUID())
      : tenantScope({ type: 'service', id: 'rls-test', organizationId });

  it("shows an unfiltered query only the tenant's rows", async () => {
    const db = database();
    for (const table of TENANT_TABLES) {
      const [result] = await runScoped(db, scope(a.id), [db.execute(sql.raw(`select organization_id from ${table}`))]);
      const orgs = new Set(result.rows.map((r) => (r as { organization_id: string }).organization_id));
      expect(
        [...orgs].filter((o) => o !== a.id),
        table,
      ).toEqual([]);
    }
    const [docs] = await runScoped(db, scope(a.id), [db.execute(sql`select title from documents order by title`)]);
    expect(docs.rows.map((r) => (r as { title: string }).title)).toEqual(['A1', 'A2']);
  });

  it('shows nothing at all when no tenant is set', async () => {
    const db = database();
    for (const table of [...TENANT_TABLES, 'organizations', 'users']) {
      const [result] = await runScoped(db, scope(null), [
        db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
      ]);
      expect((result.rows[0] as { n: number }).n, table).toBe(0);
    }
  });

  it('refuses a write into another tenant', async () => {
    const db = database();
    const write = runScoped(db, scope(a.id), [
      db.execute(sql`insert into documents (organization_id, title, created_by) values (${b.id}, 'smuggled', 'x')`),
    ]);
    await expect(write).rejects.toBeDefined();
    const rows = await adminSql()`select count(*)::int as n from documents where title = 'smuggled'`;
    expect((rows[0] as { n: number }).n).toBe(0);
  });

  it("cannot update or delete another tenant's rows, even unfiltered", async () => {
    const db = database();
    await runScoped(db, scope(a.id), [db.execute(sql`update documents set title = 'hijacked'`)]);
    await runScoped(db, scope(a.id), [db.execute(sql`delete from documents where title <> 'hijacked'`)]);
    const rows = await adminSql()`select title from documents where organization_id = ${b.id}`;
    expect(rows).toEqual([{ title: 'B1' }]);
  });

  it('keeps the audit trail append-only for the tenant session: no update, no delete, even of its own events', async () => {
    const db = database();
    for (const statement of [sql`update audit_events set action = 'rewritten'`, sql`delete from audit_events`]) {
      const change = runScoped(db, scope(a.id), [db.execute(statement)]);
      await expect(change).rejects.toMatchObject({ code: '42501' });
    }
    const rows = await adminSql()`select action from audit_events where organization_id = ${a.id}`;
    expect(rows).toEqual([{ action: 'test' }]);
    // Recording one is what the session may do.
    await runScoped(db, scope(a.id), [
      db.execute(sql`insert into audit_events (organization_id, actor_type, actor_id, action, resource_type, resource_id, outcome, request_id)
        values (${a.id}, 'service', 'rls-test', 'recorded', 'test', 'x', 'success', 'r')`),
    ]);
  });

  it('runs as a role that neither owns the tables nor bypasses RLS', async () => {
    const db = database();
    const [result] = await runScoped(db, scope(a.id), [
      db.execute(sql`select current_user as role, r.rolbypassrls as bypass, r.rolsuper as super
                     from pg_roles r where r.rolname = current_user`),
    ]);
    expect(result.rows[0]).toEqual({ role: 'signet_app', bypass: false, super: false });
  });

  it('gives each narrow mode a role of its own, none owner, superuser or bypassing RLS', async () => {
    const db = database();
    const who = sql`select current_user as role, r.rolbypassrls as bypass, r.rolsuper as super
                    from pg_roles r where r.rolname = current_user`;
    const roles = await Promise.all(
      [
        publicReadScope({ type: 'guest', id: 'rls-test' }),
        bootstrapScope('rls-test'),
        maintenanceScope('rls-test'),
        userScope(crypto.randomUUID()),
      ].map(async (s) => (await runScoped(db, s, [db.execute(who)]))[0].rows[0]),
    );
    expect(roles).toEqual(
      ['signet_public', 'signet_bootstrap', 'signet_maintenance', 'signet_app'].map((role) => ({
        role,
        bypass: false,
        super: false,
      })),
    );
  });

  // A mode's policies apply to its role alone (migrations/0014_mode_roles.sql): its setting without its
  // role opens nothing, nor its role without its setting.
  it("opens a mode's rows only to its role and its setting together", async () => {
    const admin = adminSql();
    const publicDocument = await createDocument(b.id, { title: 'B-public', visibility: 'public' });
    const visible = async (role: string, publicRead: string) => {
      const [, , rows] = await admin.transaction([
        admin`select set_config('role', ${role}, true), set_config('app.public_read', ${publicRead}, true)`,
        admin`select set_config('app.organization_id', ${a.id}, true)`,
        admin`select id from documents where id = ${publicDocument.id}`,
      ]);
      return (rows as unknown[]).length;
    };
    expect(await visible('signet_public', 'on')).toBe(1);
    expect(await visible('signet_app', 'on'), "a tenant session with the public-read setting: not B's").toBe(0);
    expect(await visible('signet_public', ''), 'the role without its setting').toBe(0);
  });

  it('opens the bootstrap reads (organizations, memberships, users, deletions) only to signet_bootstrap with its setting', async () => {
    const admin = adminSql();
    const userOfB = await addMembership(b.id, `${unique('rls-b')}@example.com`, 'viewer');
    await admin`insert into organization_deletions (id, organization_id, organization_slug, organization_name, initiated_by, request_id, status)
      values (gen_random_uuid(), ${b.id}, 'b', 'B', ${userOfB}, 'rls-test', 'failed')`;
    const seen = async (role: string, bootstrap: string) => {
      const [, , organizations, memberships, users, deletions] = await admin.transaction([
        admin`select set_config('role', ${role}, true), set_config('app.bootstrap', ${bootstrap}, true)`,
        admin`select set_config('app.organization_id', ${a.id}, true)`,
        admin`select id from organizations where id = ${b.id}`,
        admin`select user_id from memberships where organization_id = ${b.id}`,
        admin`select id from users where id = ${userOfB}`,
        admin`select organization_id from organization_deletions where organization_id = ${b.id}`,
      ]);
      return [organizations, memberships, users, deletions].map((rows) => (rows as unknown[]).length);
    };
    expect(await seen('signet_bootstrap', 'on')).toEqual([1, 1, 1, 1]);
    expect(await seen('signet_app', 'on'), "a tenant session of A with the bootstrap setting: nothing of B's").toEqual([
      0, 0, 0, 0,
    ]);
    expect(await seen('signet_bootstrap', ''), 'the role without its setting').toEqual([0, 0, 0, 0]);
  });

  it(`runs on the ${env.DATABASE_KIND} database`, () => {
    expect(['embedded', 'postgres']).toContain(env.DATABASE_KIND);
  });
});
