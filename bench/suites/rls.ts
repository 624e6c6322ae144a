/**
 * `db.rls_overhead_ratio`, `db.list_page_ms_1m`: row-level security at a million rows, on the machine's
 * PostgreSQL (a database of its own, `signet_bench_rls`; skipped, with one line, where none answers).
 *
 * Each statement is the SQL the service sends — the list built by the same drizzle expressions as
 * `services/documents.ts` (`drizzle.mock`, so nothing of the builder differs), the single read by the
 * service's own `documentById` — run three ways, one
 * round trip each (the simple-query protocol, parameters inlined as literals, as a Neon HTTP batch is one
 * request):
 *
 * - `scoped`: what `runScoped` sends — `begin; select set_config('role', 'signet_app', true), …; <sql>; commit`:
 *   the role switch, the tenant settings, and row-level security on the statement;
 * - `settings`: the same batch without the role switch (the owner bypasses row-level security): the
 *   session's own cost, without the policies;
 * - `owner`: `<sql>` alone, as the owner, no row-level security, the explicit `organization_id` filter
 *   that every service query carries anyway;
 * - `floor`: the cheapest session with a role switch and a setting — `begin; set local role signet_app;
 *   set local app.organization_id = …; <sql>; commit`: the role switch and the one setting the documents'
 *   tenant policy reads, each by the cheapest statement PostgreSQL has (a `SET`: nothing to plan, no row to
 *   answer; `runScoped` can't send it, a `SET` takes no parameters), under the real policies. What any
 *   design keeping a role switch and a setting costs at least.
 *
 * Samples of the four alternate query by query (the order rotating), over random organizations; a run's
 * ratio is scoped ÷ owner of the medians, for the worst of the three statements (first page, deep page,
 * single read). `db.list_page_ms_1m` is the scoped list page's time (first and deep pages alike).
 */
import { and, desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from '../../src/db/schema.ts';
import { SCOPE_SQL, scopeParameters, tenantScope } from '../../src/db/scopes.ts';
import { documentById } from '../../src/services/document-statements.ts';
import { afterCursor, encodeCursor } from '../../src/services/pagination.ts';
import { atMost, type Results, report } from '../lib/results.ts';
import { databaseUrl, postgresProblem, prepareDatabase } from '../lib/rls-data.ts';
import { median, percentile, round } from '../lib/stats.ts';

const SHAPE = {
  organizations: 1000,
  documentsPerOrganization: 1000,
  auditPerOrganization: 100,
  revocationsPerOrganization: 5,
};
const DATABASE = 'signet_bench_rls';
const LIMIT = 50;
/** Deep pages: the cursor after this many documents of the organization (page 19 of 20 at 50 a page). */
const DEEP = 900;

const { documents } = schema;
const mock = drizzle.mock({ schema });

export function listSql(organizationId: string, cursor: string | undefined): { sql: string; params: unknown[] } {
  return mock
    .select()
    .from(documents)
    .where(and(eq(documents.organizationId, organizationId), afterCursor(documents.createdAt, documents.id, cursor)))
    .orderBy(desc(documents.createdAt), desc(documents.id))
    .limit(LIMIT + 1)
    .toSQL();
}

export function readSql(organizationId: string, id: string): { sql: string; params: unknown[] } {
  const { sql, params } = documentById(organizationId, id);
  return { sql, params: [...params] };
}

/** `$n` placeholders → literals, last first (so `$1` never matches the start of `$10`). */
export function inline(client: pg.Client, query: { sql: string; params: unknown[] }): string {
  let text = query.sql;
  for (let i = query.params.length; i >= 1; i--) {
    const value = query.params[i - 1];
    const literal =
      typeof value === 'number'
        ? String(value)
        : client.escapeLiteral(value instanceof Date ? value.toISOString() : String(value));
    text = text.replaceAll(`$${i}`, literal);
  }
  return text;
}

/** The role switch that opens `SCOPE_SQL`, as its text spells it. */
const ROLE_SWITCH = "set_config('role', $1, true)\n  || ";

/**
 * The scope statement of `db/session.ts` (its own text and parameters), for a user actor of
 * `organizationId`; `role` false drops the role switch.
 */
export function scopeSql(client: pg.Client, organizationId: string, actorId: string, role: boolean): string {
  if (!SCOPE_SQL.includes(ROLE_SWITCH)) throw new Error('rls: SCOPE_SQL no longer opens with the role switch');
  const params = scopeParameters(tenantScope({ type: 'user', id: actorId, organizationId }), 8_000);
  return inline(client, { sql: role ? SCOPE_SQL : SCOPE_SQL.replace(ROLE_SWITCH, ''), params });
}

type Kind = 'first' | 'deep' | 'read';
type Way = 'scoped' | 'settings' | 'owner' | 'floor';

interface Target {
  organizationId: string;
  actorId: string;
  deepCursor: string;
  documentId: string;
}

export async function benchRls(results: Results): Promise<void> {
  const problem = await postgresProblem();
  if (problem) {
    results.skip('rls', problem);
    return;
  }
  const organizations = await prepareDatabase(DATABASE, SHAPE, (line) => console.log(`bench: rls: ${line}`));
  const client = new pg.Client({ connectionString: databaseUrl(DATABASE) });
  await client.connect();
  try {
    // 32 organizations spread over the set, each with a deep cursor and a document to read.
    const targets: Target[] = [];
    for (let i = 0; i < 32; i++) {
      const organizationId = organizations[Math.floor((i * organizations.length) / 32)]!;
      const rows = await client.query<{ id: string; created_at: Date }>(
        'select id, created_at from documents where organization_id = $1 order by created_at desc, id desc offset $2 limit 1',
        [organizationId, DEEP - 1],
      );
      const row = rows.rows[0];
      if (!row) throw new Error(`organization ${organizationId} has fewer than ${DEEP} documents`);
      targets.push({
        organizationId,
        actorId: crypto.randomUUID(),
        deepCursor: encodeCursor(row.created_at, row.id),
        documentId: row.id,
      });
    }
    const statement = (kind: Kind, t: Target) =>
      inline(
        client,
        kind === 'read'
          ? readSql(t.organizationId, t.documentId)
          : listSql(t.organizationId, kind === 'deep' ? t.deepCursor : undefined),
      );
    const batch = (way: Way, kind: Kind, t: Target) => {
      const sql = statement(kind, t);
      if (way === 'owner') return sql;
      if (way === 'floor')
        return `begin; set local role signet_app; set local app.organization_id = ${client.escapeLiteral(t.organizationId)}; ${sql}; commit`;
      return `begin; ${scopeSql(client, t.organizationId, t.actorId, way === 'scoped')}; ${sql}; commit`;
    };
    const expected = (kind: Kind) => (kind === 'read' ? 1 : LIMIT + 1);
    const time = async (way: Way, kind: Kind, t: Target): Promise<number> => {
      const text = batch(way, kind, t);
      const start = performance.now();
      const result = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
      const elapsed = performance.now() - start;
      const rows = Array.isArray(result) ? result.at(-2)!.rowCount : result.rowCount;
      if (rows !== expected(kind)) throw new Error(`${way} ${kind}: ${rows} rows, expected ${expected(kind)}`);
      return elapsed;
    };

    const kinds: Kind[] = ['first', 'deep', 'read'];
    const ways: Way[] = ['scoped', 'settings', 'owner', 'floor'];
    // The floor is a session row-level security confines: another organization's setting hides the row.
    const [a, b] = [targets[0]!, targets[1]!];
    const hidden = (await client.query(
      batch('floor', 'read', a).replace(client.escapeLiteral(a.organizationId), client.escapeLiteral(b.organizationId)),
    )) as unknown as pg.QueryResult[];
    if (hidden.at(-2)?.rowCount !== 0) throw new Error('rls: the floor session is not confined to its organization');
    // Warm-up: caches, plans, the connection.
    for (let i = 0; i < 3; i++)
      for (const t of targets) for (const k of kinds) for (const w of ways) await time(w, k, t);

    const runs = 9;
    const perRun = { worst: [] as number[], first: [] as number[], deep: [] as number[], read: [] as number[] };
    const sessionShare: number[] = [];
    const policyShare: number[] = [];
    const readSession: number[] = [];
    const readPolicies: number[] = [];
    const listMs: number[] = [];
    const floor: number[] = [];
    const floorUs: number[] = [];
    const budgetUs: number[] = [];
    for (let run = 0; run < runs; run++) {
      const samples = new Map<string, number[]>();
      for (const [index, t] of targets.entries()) {
        for (const [kindIndex, kind] of kinds.entries()) {
          // The order rotates with the organization, the statement and the run: no way always goes first
          // (the first to touch an organization's pages would pay for the others' cache hits).
          const turn = index + kindIndex + run;
          for (let k = 0; k < ways.length; k++) {
            const way = ways[(k + turn) % ways.length]!;
            const ms = await time(way, kind, t);
            const key = `${way}:${kind}`;
            samples.set(key, [...(samples.get(key) ?? []), ms]);
            if (way === 'scoped' && kind !== 'read') listMs.push(ms);
          }
        }
      }
      const m = (way: Way, kind: Kind) => median(samples.get(`${way}:${kind}`)!);
      const ratio = (kind: Kind) => m('scoped', kind) / m('owner', kind);
      perRun.first.push(ratio('first'));
      perRun.deep.push(ratio('deep'));
      perRun.read.push(ratio('read'));
      perRun.worst.push(Math.max(ratio('first'), ratio('deep'), ratio('read')));
      const sum = (way: Way) => kinds.reduce((s, k) => s + m(way, k), 0);
      sessionShare.push(sum('settings') / sum('owner'));
      policyShare.push(sum('scoped') / sum('settings'));
      readSession.push(m('settings', 'read') / m('owner', 'read'));
      readPolicies.push(m('scoped', 'read') / m('settings', 'read'));
      floor.push(m('floor', 'read') / m('owner', 'read'));
      floorUs.push((m('floor', 'read') - m('owner', 'read')) * 1000);
      budgetUs.push(m('owner', 'read') * 0.1 * 1000);
    }
    const r = (values: number[]) => round(median(values), 3);
    results.addRuns(
      'db.rls_overhead_ratio',
      perRun.worst,
      'ratio',
      atMost(1.1),
      `runScoped's batch ÷ the owner's bare statement, worst of first page ${r(perRun.first)}, deep page (after ` +
        `${DEEP}) ${r(perRun.deep)}, single read ${r(perRun.read)} (its session ${r(readSession)}× and its role ` +
        `switch with the policies ${r(readPolicies)}×); all three summed: the session (begin, settings, commit) ` +
        `${r(sessionShare)}× and the role switch with the policies ${r(policyShare)}×; ` +
        `${SHAPE.organizations.toLocaleString('en')} × ${SHAPE.documentsPerOrganization.toLocaleString('en')} documents, ` +
        `${targets.length} organizations a run`,
    );
    results.addRuns(
      'db.rls_floor_ratio',
      floor,
      'ratio',
      report,
      `the single read in the cheapest session with a role switch and a setting (begin; SET LOCAL role; SET LOCAL ` +
        `app.organization_id; the read under its policies; commit) ÷ the owner's bare read: ` +
        `${round(median(floorUs), 1)} µs more, where the goal of 1.10 leaves ${round(median(budgetUs), 1)} µs`,
    );
    results.add(
      'db.list_page_ms_1m',
      round(percentile(listMs, 50), 3),
      'ms',
      report,
      `p50 of ${listMs.length} scoped list pages (limit ${LIMIT}, first and deep pages) over 1,000,000 documents; ` +
        `p99 ${round(percentile(listMs, 99), 3)} ms; loopback, one connection`,
    );
    results.add('db.list_page_ms_1m_p99', round(percentile(listMs, 99), 3), 'ms', report, 'the same samples, p99');
  } finally {
    await client.end();
  }
}
