/**
 * Row-level security's plans on a real PostgreSQL (the machine's, as `npm run bench`'s `db.*` figures use;
 * skipped, saying why, where none answers): for the documents list (first and deep pages), the single
 * read, the audit list and the revocation refresh — each the SQL its service builds, run in a session as
 * `runScoped` opens it (role `signet_app`, the tenant settings) — EXPLAIN shows
 *
 * - an index scan on the tenant's index, never a sequential scan of a tenant table, and
 * - the policies' settings read once per statement (an InitPlan, or a stable function as an index
 *   condition), never in a per-row filter.
 *
 * A small data set (50 organizations × 200 documents) in a database of its own for this run
 * (`signet_plans_<pid>`, dropped afterwards), so that runs in parallel never share one.
 */
import { and, desc, eq, gt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropDatabase, postgresProblem, prepareDatabase } from '../../bench/lib/rls-data.ts';
import { inline, listSql, readSql, scopeSql } from '../../bench/suites/rls.ts';
import * as schema from '../../src/db/schema.ts';
import { afterCursor, encodeCursor } from '../../src/services/pagination.ts';

const DATABASE = `signet_plans_${process.pid}`;
const problem = await postgresProblem();
if (problem) console.warn(`rls-plans: skipped: ${problem}`);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Parent Relationship'?: string;
  Filter?: string;
  'Join Filter'?: string;
  'Recheck Cond'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** Every node of the plan, with whether it runs once per statement (inside an InitPlan). */
function nodes(plan: PlanNode, once = false): { node: PlanNode; once: boolean }[] {
  const here = once || plan['Parent Relationship'] === 'InitPlan';
  return [{ node: plan, once: here }, ...(plan.Plans ?? []).flatMap((child) => nodes(child, here))];
}

/** Per-row conditions that read a session setting (`current_setting`), outside any InitPlan. */
function settingsReadPerRow(plan: PlanNode): string[] {
  return nodes(plan)
    .filter(({ once }) => !once)
    .flatMap(({ node }) => [node.Filter, node['Join Filter'], node['Recheck Cond']])
    .filter((condition): condition is string => condition?.includes('current_setting(') ?? false);
}

const { auditEvents, revocations, organizationDeletions } = schema;
const mock = drizzle.mock({ schema });

describe.skipIf(problem !== null)(`row-level security plans${problem ? ` (skipped: ${problem})` : ''}`, () => {
  let client: pg.Client;
  let organizationId: string;
  let deepCursor: string;
  let documentId: string;

  beforeAll(async () => {
    // Enough rows for the planner to weigh its plans as it would at scale (a few seconds to load): with a
    // few hundred rows, sorting them all is as cheap as any index scan, and the plans say nothing.
    const organizations = await prepareDatabase(DATABASE, {
      organizations: 200,
      documentsPerOrganization: 1000,
      auditPerOrganization: 100,
      revocationsPerOrganization: 40,
    });
    organizationId = organizations[17]!;
    client = new pg.Client({ connectionString: databaseUrl(DATABASE) });
    await client.connect();
    const row = (
      await client.query<{ id: string; created_at: Date }>(
        'select id, created_at from documents where organization_id = $1 order by created_at desc, id desc offset 150 limit 1',
        [organizationId],
      )
    ).rows[0]!;
    deepCursor = encodeCursor(row.created_at, row.id);
    documentId = row.id;
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await dropDatabase(DATABASE);
  });

  /**
   * EXPLAIN of `sql` in a session as `runScoped` opens it, rolled back; `role` false keeps the owner
   * (no row-level security: the settings only).
   */
  async function explain(query: { sql: string; params: unknown[] }, role = true): Promise<PlanNode> {
    await client.query('begin');
    try {
      await client.query(scopeSql(client, organizationId, organizationId, role));
      const result = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `explain (format json) ${inline(client, query)}`,
      );
      return result.rows[0]!['QUERY PLAN'][0].Plan;
    } finally {
      await client.query('rollback');
    }
  }

  const statements: Record<
    string,
    { query: () => { sql: string; params: unknown[] }; index: RegExp; table: string; page?: true }
  > = {
    'documents list, first page': {
      query: () => listSql(organizationId, undefined),
      index: /^documents_org_page_idx$/,
      table: 'documents',
      page: true,
    },
    'documents list, deep page': {
      query: () => listSql(organizationId, deepCursor),
      index: /^documents_org_page_idx$/,
      table: 'documents',
      page: true,
    },
    'document read': {
      query: () => readSql(organizationId, documentId),
      index: /^documents_(pkey|org_page_idx)$/,
      table: 'documents',
    },
    'audit list': {
      // services/audit.ts, the same expression
      query: () =>
        mock
          .select()
          .from(auditEvents)
          .where(
            and(eq(auditEvents.organizationId, organizationId), afterCursor(auditEvents.at, auditEvents.id, undefined)),
          )
          .orderBy(desc(auditEvents.at), desc(auditEvents.id))
          .limit(51)
          .toSQL(),
      index: /^audit_events_org_page_idx$/,
      table: 'audit_events',
      page: true,
    },
    'revocation refresh': {
      // identity/revocations.ts `load`, its first statement (the second reads organization_deletions, below)
      query: () =>
        mock
          .select({ type: revocations.subjectType, id: revocations.subjectId, at: revocations.revokedAt })
          .from(revocations)
          .where(
            and(
              eq(revocations.organizationId, organizationId),
              gt(revocations.revokedAt, new Date(Date.now() - 3660_000)),
            ),
          )
          .toSQL(),
      index: /^revocations_/,
      table: 'revocations',
    },
  };

  for (const [name, statement] of Object.entries(statements)) {
    it(`${name}: an index scan, no sequential scan of ${statement.table}`, async () => {
      const plan = await explain(statement.query());
      const scans = nodes(plan)
        .map(({ node }) => node)
        .filter((node) => node['Relation Name'] === statement.table || node['Index Name'] !== undefined);
      expect(scans.some((node) => statement.index.test(node['Index Name'] ?? ''))).toBe(true);
      expect(scans.filter((node) => node['Node Type'] === 'Seq Scan')).toEqual([]);
    });

    // A page in the index's own order reads `limit + 1` entries; otherwise every row of the organization
    // is read and sorted (migration 0013; the cursor as a row comparison, services/pagination.ts).
    if (statement.page) {
      it(`${name}: the index gives the order and the cursor starts the scan, nothing is sorted`, async () => {
        const plan = await explain(statement.query());
        const kinds = nodes(plan).map(({ node }) => node['Node Type']);
        expect(kinds).not.toContain('Sort');
        expect(kinds).not.toContain('Bitmap Heap Scan');
        expect(kinds).toContain('Index Scan');
      });
    }

    // Called bare, signet_org() (a STABLE SQL function) is inlined into a per-row Filter
    // (`organization_id = nullif(current_setting(…))::uuid OR …`); migration 0011 wraps every such call in
    // a sub-select, which makes it an InitPlan read once per statement (0012 keeps the sub-selects).
    it(`${name}: the policy settings are read once per statement, not per row`, async () => {
      const plan = await explain(statement.query());
      expect(settingsReadPerRow(plan)).toEqual([]);
    });
  }

  it('revocation refresh, organization deletions: the policy settings are read once per statement', async () => {
    const plan = await explain(
      mock
        .select({ at: organizationDeletions.accessRevokedAt })
        .from(organizationDeletions)
        .where(eq(organizationDeletions.organizationId, organizationId))
        .toSQL(),
    );
    expect(settingsReadPerRow(plan)).toEqual([]);
  });

  // To plan a sub-select of signet_org(), PostgreSQL inlines the SQL function, parsing its body (and
  // signet_setting()'s) again for every statement; migration 0012 writes each body in its place.
  it('no policy calls a signet_*() function: the settings are read in place, no function body to parse', async () => {
    const { rows } = await client.query<{ policy: string }>(
      `select tablename || '.' || policyname as policy from pg_policies
       where schemaname = current_schema() and (qual ~ 'signet_\\w*\\(' or with_check ~ 'signet_\\w*\\(')`,
    );
    expect(rows.map((r) => r.policy)).toEqual([]);
  });

  it('the check itself: a bare stable setting is a per-row filter, a sub-selected one an InitPlan', async () => {
    const query = (condition: string) => ({
      sql: `select id from documents where organization_id = $1 and ${condition}`,
      params: [organizationId],
    });
    const bare = await explain(query("title <> coalesce(signet_setting('app.actor_id'), '')"), false);
    expect(settingsReadPerRow(bare)).toHaveLength(1);
    const once = await explain(query("title <> coalesce((select signet_setting('app.actor_id')), '')"), false);
    expect(nodes(once).some(({ node }) => node['Parent Relationship'] === 'InitPlan')).toBe(true);
    expect(settingsReadPerRow(once)).toEqual([]);
  });
});
