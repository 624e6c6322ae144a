import { neon, neonConfig } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { type NeonBridge, startNeonBridge } from '../../scripts/lib/neon-bridge.ts';

// The bridge must behave like Neon's proxy for the real driver: results, batches as transactions,
// Postgres errors with their SQLSTATE, and the round-trip count the one-round-trip goal is measured by.
describe('the local Neon bridge', () => {
  let db: EmbeddedPostgres;
  let bridge: NeonBridge;
  let sql: ReturnType<typeof neon<false, false>>;

  beforeAll(async () => {
    db = await startEmbeddedPostgres();
    bridge = await startNeonBridge();
    neonConfig.fetchEndpoint = () => `${bridge.url}/sql`;
    sql = neon(db.url);
    await sql`create table if not exists bridge_probe (id int primary key, note text)`;
  });
  afterAll(async () => {
    await bridge.close();
    await db.close();
  });

  it('returns typed rows', async () => {
    const rows = await sql`select 1::int as one, 'x'::text as two, now() as at, null::int as nothing`;
    expect(rows[0]).toMatchObject({ one: 1, two: 'x', nothing: null });
    expect((rows[0] as { at: unknown }).at).toBeInstanceOf(Date);
  });

  it('runs a batch as one transaction in one round trip', async () => {
    const before = await stats();
    const results = await sql.transaction([
      sql`insert into bridge_probe (id, note) values (1, 'a')`,
      sql`select count(*)::int as n from bridge_probe`,
    ]);
    expect((results[1] as { n: number }[])[0]!.n).toBe(1);
    expect((await stats()) - before).toBe(1);
  });

  it('rolls the whole batch back when a statement fails, and reports the SQLSTATE', async () => {
    const failing = sql.transaction([
      sql`insert into bridge_probe (id, note) values (2, 'b')`,
      sql`insert into bridge_probe (id, note) values (1, 'duplicate')`,
    ]);
    await expect(failing).rejects.toMatchObject({ code: '23505' });
    const rows = await sql`select id from bridge_probe where id = 2`;
    expect(rows).toEqual([]);
  });

  it('refuses to reach a database that is not on loopback', async () => {
    const remote = neon('postgresql://postgres@10.0.0.1:5432/postgres');
    await expect(remote`select 1`).rejects.toThrow(/403/);
  });

  async function stats(): Promise<number> {
    const response = await fetch(`${bridge.url}/__bridge/stats`);
    return ((await response.json()) as { roundTrips: number }).roundTrips;
  }
});
