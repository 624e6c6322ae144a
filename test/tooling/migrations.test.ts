import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { applyMigrations } from '../../scripts/lib/migrate.ts';

/** Everything migrations define, as text: tables and columns, constraints, indexes, policies, grants, roles. */
async function fingerprint(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const queries = [
      `select table_name, column_name, data_type, is_nullable, column_default
                    from information_schema.columns where table_schema = 'public' order by 1, 2`,
      `select conname, pg_get_constraintdef(oid) from pg_constraint
                    where connamespace = 'public'::regnamespace order by 1`,
      `select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`,
      `select tablename, policyname, roles, cmd, qual, with_check from pg_policies order by 1, 2`,
      `select relname, relrowsecurity, relforcerowsecurity from pg_class
                    where relnamespace = 'public'::regnamespace and relkind = 'r' order by 1`,
      `select table_name, privilege_type from information_schema.role_table_grants
                    where grantee = 'signet_app' order by 1, 2`,
      `select count(*) from drizzle.__drizzle_migrations`,
    ];
    const parts = [];
    for (const query of queries) parts.push((await client.query(query)).rows);
    return JSON.stringify(parts);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  let db: EmbeddedPostgres;
  beforeAll(async () => {
    db = await startEmbeddedPostgres();
  });
  afterAll(async () => {
    await db.close();
  });

  it('applied twice change nothing the second time', async () => {
    await applyMigrations(db.url);
    const first = await fingerprint(db.url);
    await applyMigrations(db.url);
    expect(await fingerprint(db.url)).toBe(first);
  });

  it('0008 gives documents seeded with a bare user id the one createdBy format, user:<id>', async () => {
    await applyMigrations(db.url);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const user = '0b7e8a8e-4f5c-4d3a-9a57-3c1f2e6d9b10';
      const org = await client.query(`insert into organizations (name, slug) values ('M', 'm-0008') returning id`);
      await client.query(
        `insert into documents (organization_id, title, created_by) values ($1, 'seeded', $2), ($1, 'api', $3), ($1, 'key', $4)`,
        [org.rows[0].id, user, `user:${user}`, `service:${user}`],
      );
      await client.query(
        readFileSync(new URL('../../migrations/0010_created_by_principal.sql', import.meta.url), 'utf8'),
      );
      const rows = await client.query(
        `select title, created_by from documents where organization_id = $1 order by title`,
        [org.rows[0].id],
      );
      expect(rows.rows).toEqual([
        { title: 'api', created_by: `user:${user}` },
        { title: 'key', created_by: `service:${user}` },
        { title: 'seeded', created_by: `user:${user}` },
      ]);
    } finally {
      await client.end();
    }
  });

  it('force row-level security on every table, for a role that neither owns them nor bypasses it', async () => {
    await applyMigrations(db.url);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const tables =
        await client.query(`select relname, relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) as owner
        from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'`);
      expect(tables.rows.length).toBeGreaterThanOrEqual(7);
      for (const table of tables.rows) {
        expect(table, table.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
        expect(table.owner).not.toBe('signet_app');
      }
      const roles = await client.query(
        `select rolname, rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname like 'signet\\_%' order by 1`,
      );
      expect(roles.rows).toEqual(
        ['signet_app', 'signet_bootstrap', 'signet_maintenance', 'signet_public'].map((rolname) => ({
          rolname,
          rolsuper: false,
          rolbypassrls: false,
          rolcanlogin: false,
        })),
      );
    } finally {
      await client.end();
    }
  });
});
