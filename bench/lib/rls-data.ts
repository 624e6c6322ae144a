/**
 * A database of its own on the machine's PostgreSQL for the row-level-security figures (`bench/suites/rls.ts`)
 * and the plan test (`test/tooling/rls-plans.test.ts`): created if missing, migrated, and filled in bulk with
 * `generate_series` (organizations × documents, audit events and revocations per organization). Never
 * the `test` database or any other one.
 */
import pg from 'pg';
import { applyMigrations } from '../../scripts/lib/migrate.ts';

export const POSTGRES = process.env.SIGNET_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Shape {
  organizations: number;
  documentsPerOrganization: number;
  auditPerOrganization: number;
  revocationsPerOrganization: number;
}

/** The URL of database `name` on the same server as `POSTGRES`. */
export function databaseUrl(name: string): string {
  const url = new URL(POSTGRES);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Null when a PostgreSQL answers at `POSTGRES`; otherwise why not, in one line. */
export async function postgresProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return `no PostgreSQL answers at ${new URL(POSTGRES).host} (${(error as Error).message || (error as { code?: string }).code})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates (or reuses, when it already holds exactly `shape`) database `name`, migrated and filled.
 * Returns the organization ids in a fixed order.
 */
export async function prepareDatabase(
  name: string,
  shape: Shape,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  if (!/^signet_(bench|plans)_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to use database ${name}`);
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  await applyMigrations(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // One loader at a time per database (two bench runs on one machine): the second waits, then reuses.
    await client.query("select pg_advisory_lock(hashtext('signet_bench_shape'))");
    const wanted = JSON.stringify(shape);
    await client.query('create table if not exists bench_shape (shape text not null)');
    const current = (await client.query<{ shape: string }>('select shape from bench_shape')).rows[0]?.shape;
    if (current !== wanted) {
      const started = performance.now();
      log(`loading ${shape.organizations} organizations × ${shape.documentsPerOrganization} documents into ${name}…`);
      await load(client, shape);
      await client.query('delete from bench_shape');
      await client.query('insert into bench_shape values ($1)', [wanted]);
      log(`loaded in ${Math.round((performance.now() - started) / 1000)} s`);
    }
    const rows = await client.query<{ id: string }>('select id from organizations order by slug');
    return rows.rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

async function load(client: pg.Client, shape: Shape): Promise<void> {
  await client.query('begin');
  await client.query('truncate organizations, documents, audit_events, revocations cascade');
  await client.query(
    `insert into organizations (id, name, slug)
     select gen_random_uuid(), 'Bench ' || n, 'bench-' || lpad(n::text, 6, '0') from generate_series(1, $1) n`,
    [shape.organizations],
  );
  // Timestamps a second apart per organization (distinct keyset positions), ids random.
  await client.query(
    `insert into documents (organization_id, title, body, visibility, version, created_by, created_at, updated_at)
     select o.id, 'Document ' || d, repeat('lorem ipsum ', 8), case when d % 10 = 0 then 'public' else 'private' end,
            1, 'user:' || o.id, t, t
     from organizations o, generate_series(1, $1) d,
          lateral (select timestamptz '2026-01-01' + d * interval '1 second' as t) ts`,
    [shape.documentsPerOrganization],
  );
  await client.query(
    `insert into audit_events (organization_id, at, actor_type, actor_id, action, resource_type, resource_id, outcome, request_id)
     select o.id, timestamptz '2026-01-01' + a * interval '1 second', 'user', o.id::text, 'documents.update',
            'document', gen_random_uuid()::text, 'success', gen_random_uuid()::text
     from organizations o, generate_series(1, $1) a`,
    [shape.auditPerOrganization],
  );
  await client.query(
    `insert into revocations (organization_id, subject_type, subject_id, revoked_at)
     select o.id, 'user', gen_random_uuid(), now() - r * interval '1 minute'
     from organizations o, generate_series(1, $1) r`,
    [shape.revocationsPerOrganization],
  );
  await client.query('commit');
  await client.query('analyze organizations, documents, audit_events, revocations, organization_deletions');
}

/** Drops database `name` (a test's own), closing whatever is still connected to it. */
export async function dropDatabase(name: string): Promise<void> {
  if (!/^signet_(bench|plans)_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop database ${name}`);
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
