/**
 * Test access to the database behind the Worker, through the same Neon bridge. `adminSql` runs as the
 * connection's own user (the tables' owner or a superuser), outside any tenant session: fixtures and
 * assertions use it to see what really landed, whatever row-level security would show.
 */
import { env } from 'cloudflare:test';
import { neon } from '@neondatabase/serverless';
import { openDatabase } from '../../src/db/client.ts';

export function database() {
  return openDatabase(env);
}

export function adminSql() {
  openDatabase(env); // points the driver at the local bridge
  return neon(env.DATABASE_URL!);
}

/**
 * An environment whose database requests the bridge counts apart (`signet_suite` in the connection
 * string), and its round-trip counter: test files run in parallel, so a global count would see theirs.
 */
export function countedDatabase(): { env: typeof env; roundTrips(): Promise<number> } {
  const suite = crypto.randomUUID();
  const url = env.DATABASE_URL!;
  const counted = { ...env, DATABASE_URL: `${url}${url.includes('?') ? '&' : '?'}signet_suite=${suite}` };
  return {
    env: counted,
    async roundTrips() {
      const response = await fetch(`${env.DATABASE_PROXY_URL}/__bridge/stats?suite=${suite}`);
      return ((await response.json()) as { roundTrips: number }).roundTrips;
    },
  };
}

let counter = 0;
/** A value unique to this test run, for slugs and emails. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}-${counter}`;
}

export async function createOrganization(name = unique('org')): Promise<{ id: string; slug: string }> {
  const sql = adminSql();
  const [row] = await sql`insert into organizations (name, slug) values (${name}, ${name}) returning id, slug`;
  return row as { id: string; slug: string };
}

export async function createDocument(
  organizationId: string,
  fields: { title?: string; body?: string; visibility?: 'public' | 'private' } = {},
): Promise<{ id: string }> {
  const sql = adminSql();
  const [row] = await sql`insert into documents (organization_id, title, body, visibility, created_by)
    values (${organizationId}, ${fields.title ?? 'Untitled'}, ${fields.body ?? ''}, ${fields.visibility ?? 'private'}, 'user:00000000-0000-4000-8000-000000000000')
    returning id`;
  return row as { id: string };
}

/** Adds a user (created by email if new) to an organization directly in the database; returns the user id. */
export async function addMembership(organizationId: string, email: string, role: string): Promise<string> {
  const sql = adminSql();
  const [user] =
    await sql`insert into users (email) values (${email}) on conflict (email) do update set email = excluded.email returning id`;
  const id = (user as { id: string }).id;
  await sql`insert into memberships (organization_id, user_id, role) values (${organizationId}, ${id}, ${role})`;
  return id;
}
