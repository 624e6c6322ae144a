/**
 * The demo data `npm run dev` seeds (SPEC §6): one organization with a user of every role and a few
 * documents. Idempotent: rerunning finds what is there. Runs as the database owner, outside the
 * request path, and only for local development.
 */
import pg from 'pg';

export const DEMO_ORGANIZATION = { name: 'Demo Organization', slug: 'demo' } as const;
export const DEMO_USERS = [
  { email: 'owner@demo.signet.dev', name: 'Olive Owner', role: 'owner' },
  { email: 'admin@demo.signet.dev', name: 'Adam Admin', role: 'admin' },
  { email: 'editor@demo.signet.dev', name: 'Edith Editor', role: 'editor' },
  { email: 'viewer@demo.signet.dev', name: 'Victor Viewer', role: 'viewer' },
] as const;

export interface DemoSeed {
  organization: { id: string; slug: string; name: string };
  users: { id: string; email: string; name: string; role: string }[];
  documents: { id: string; title: string; visibility: string }[];
}

export async function seedDemo(databaseUrl: string): Promise<DemoSeed> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    const org = await client.query<{ id: string }>(
      `insert into organizations (name, slug) values ($1, $2)
       on conflict (slug) do update set name = excluded.name returning id`,
      [DEMO_ORGANIZATION.name, DEMO_ORGANIZATION.slug],
    );
    const organizationId = org.rows[0]!.id;
    const users = [];
    for (const user of DEMO_USERS) {
      const row = await client.query<{ id: string }>(
        `insert into users (email, name) values ($1, $2)
         on conflict (email) do update set name = excluded.name returning id`,
        [user.email, user.name],
      );
      const id = row.rows[0]!.id;
      await client.query(
        `insert into memberships (organization_id, user_id, role) values ($1, $2, $3)
         on conflict (organization_id, user_id) do update set role = excluded.role`,
        [organizationId, id, user.role],
      );
      users.push({ id, ...user });
    }
    const existing = await client.query<{ id: string; title: string; visibility: string }>(
      'select id, title, visibility from documents where organization_id = $1 order by created_at',
      [organizationId],
    );
    let documents = existing.rows;
    if (documents.length === 0) {
      const owner = users[0]!.id;
      const inserted = await client.query<{ id: string; title: string; visibility: string }>(
        `insert into documents (organization_id, title, body, visibility, created_by) values
           ($1, 'Welcome to Signet', 'Open this document''s room to see presence and messages live.', 'private', $2),
           ($1, 'Public release notes', 'Anyone can read this one at /v1/public/documents/:id.', 'public', $2)
         returning id, title, visibility`,
        [organizationId, `user:${owner}`],
      );
      documents = inserted.rows;
    }
    await client.query('commit');
    return { organization: { id: organizationId, ...DEMO_ORGANIZATION }, users, documents };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
