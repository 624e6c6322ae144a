import http from 'node:http';
import { neon, neonConfig } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { type NeonBridge, startNeonBridge } from '../../scripts/lib/neon-bridge.ts';

// The bridge must behave like Neon's proxy for the real driver: results, batches as transactions,
// Postgres errors with their SQLSTATE, and the round-trip count the one-round-trip goal is measured by.
// And it must answer no one but the Worker (issue 13): a per-run secret, one database, no web pages.
describe('the local Neon bridge', () => {
  let db: EmbeddedPostgres;
  let other: EmbeddedPostgres;
  let bridge: NeonBridge;
  let sql: ReturnType<typeof neon<false, false>>;
  let secret: string;

  beforeAll(async () => {
    [db, other] = await Promise.all([startEmbeddedPostgres(), startEmbeddedPostgres()]);
    bridge = await startNeonBridge({ database: db.url });
    secret = new URL(bridge.connectionString).password;
    neonConfig.fetchEndpoint = () => `${bridge.url}/sql`;
    sql = neon(bridge.connectionString);
    await sql`create table if not exists bridge_probe (id int primary key, note text)`;
  });
  afterAll(async () => {
    await bridge.close();
    await Promise.all([db.close(), other.close()]);
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

  it('hands out the database’s connection string with a fresh random secret as its password', async () => {
    const handed = new URL(bridge.connectionString);
    const configured = new URL(db.url);
    expect([handed.hostname, handed.port, handed.username, handed.pathname]).toEqual([
      configured.hostname,
      configured.port,
      configured.username,
      configured.pathname,
    ]);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = await startNeonBridge({ database: db.url });
    try {
      expect(new URL(second.connectionString).password).not.toBe(secret);
    } finally {
      await second.close();
    }
  });

  it('refuses a query without the secret or with a wrong one (401), and runs nothing', async () => {
    const before = await stats();
    await expect(neon(db.url)`select 1`).rejects.toThrow(/401/);
    const wrong = new URL(bridge.connectionString);
    wrong.password = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    await expect(neon(wrong.toString())`insert into bridge_probe (id, note) values (9, 'x')`).rejects.toThrow(/401/);
    const status = await post('/sql', { 'neon-connection-string': 'not a url' }, { query: 'select 1' });
    expect(status).toBe(401);
    expect(await stats()).toBe(before);
    expect(await sql`select id from bridge_probe where id = 9`).toEqual([]);
  });

  it('refuses a connection string naming another database, port, user or host (403), even with the secret', async () => {
    const named = (change: (url: URL) => void) => {
      const url = new URL(bridge.connectionString);
      change(url);
      return url.toString();
    };
    for (const connectionString of [
      named((u) => {
        u.port = new URL(other.url).port; // another Postgres on this machine
      }),
      named((u) => {
        u.hostname = '10.0.0.1';
      }),
      named((u) => {
        u.username = 'signet_app';
      }),
      named((u) => {
        u.pathname = '/template1';
      }),
    ]) {
      await expect(neon(connectionString)`select 1`).rejects.toThrow(/403/);
    }
  });

  it('refuses every request that carries an Origin header (403), whatever it asks', async () => {
    const origin = { origin: 'http://evil.example' };
    const headers = { ...origin, 'neon-connection-string': bridge.connectionString };
    expect(await post('/sql', headers, { query: 'select 1' })).toBe(403);
    expect(await post('/__bridge/reset', origin)).toBe(403);
    expect((await request('GET', '/__bridge/stats', origin)).status).toBe(403);
    expect((await request('GET', '/__bridge/stats', { origin: 'null' })).status).toBe(403);
  });

  it('refuses a Host other than its own loopback address (DNS rebinding)', async () => {
    const headers = { host: `evil.example:${bridge.port}`, 'neon-connection-string': bridge.connectionString };
    expect(await post('/sql', headers, { query: 'select 1' })).toBe(403);
    expect((await request('GET', '/__bridge/stats', { host: 'evil.example' })).status).toBe(403);
    expect((await request('GET', '/__bridge/stats', { host: `localhost:${bridge.port}` })).status).toBe(200);
  });

  it('relays a WebSocket to the configured database only, with the secret and without an Origin', async () => {
    const { hostname, port } = new URL(db.url);
    const otherPort = new URL(other.url).port;
    const v2 = (query: string) => `ws://127.0.0.1:${bridge.port}/v2?${query}`;
    expect(await upgrade(v2(`address=${hostname}:${port}&secret=${secret}`))).toBe('relayed');
    expect(await upgrade(v2(`address=${hostname}:${otherPort}&secret=${secret}`))).toBe(403);
    expect(await upgrade(v2(`address=${hostname}:22&secret=${secret}`))).toBe(403);
    expect(await upgrade(v2(`address=${hostname}:${port}`))).toBe(401);
    expect(await upgrade(v2(`address=${hostname}:${port}&secret=wrong`))).toBe(401);
    expect(await upgrade(v2(`address=${hostname}:${port}&secret=${secret}`), 'http://evil.example')).toBe(403);
  });

  it('listens on loopback only and reaches only a loopback database', async () => {
    await expect(startNeonBridge({ database: db.url, host: '0.0.0.0' })).rejects.toThrow(/loopback/);
    await expect(startNeonBridge({ database: 'postgresql://postgres@10.0.0.1:5432/postgres' })).rejects.toThrow(
      /loopback/,
    );
    expect(new URL(bridge.url).hostname).toBe('127.0.0.1');
  });

  async function stats(): Promise<number> {
    const response = await fetch(`${bridge.url}/__bridge/stats`);
    return ((await response.json()) as { roundTrips: number }).roundTrips;
  }

  /** A raw request (fetch can't set `Host`), answered with its status. */
  function request(method: string, path: string, headers: Record<string, string>, body?: unknown) {
    return new Promise<{ status: number }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: bridge.port, method, path, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async function post(path: string, headers: Record<string, string>, body?: unknown): Promise<number> {
    return (await request('POST', path, { 'content-type': 'application/json', ...headers }, body)).status;
  }

  /**
   * Upgrades to a WebSocket and, once open, sends Postgres's SSLRequest: the configured server answers
   * one byte (`N`), which proves the bytes were relayed to it. A refusal resolves with its HTTP status.
   */
  function upgrade(url: string, origin?: string): Promise<'relayed' | number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, origin ? { origin } : {});
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        const sslRequest = Buffer.alloc(8);
        sslRequest.writeInt32BE(8, 0);
        sslRequest.writeInt32BE(80877103, 4);
        ws.send(sslRequest);
      });
      ws.on('message', (data: Buffer) => {
        ws.close();
        if (data.toString('latin1') === 'N') resolve('relayed');
        else reject(new Error(`unexpected reply ${data.toString('hex')}`));
      });
      ws.on('error', (error) => {
        if (!(error as { message?: string }).message?.includes('Unexpected server response')) reject(error);
      });
    });
  }
});
